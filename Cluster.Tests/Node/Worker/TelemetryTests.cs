using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class TelemetryTests
{
    [Fact]
    public async Task The_execute_span_is_a_child_of_the_publish_span_through_the_traceparent_header()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ClusterQueueTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("tasks.add", 1, 2);
        await worker.ResultAsync(sent.Id);
        await EventuallyAsync(() => spans.Any(s => IsFor(s, sent.Id, "execute")), "the execute span to end");

        var publish = spans.Single(s => IsFor(s, sent.Id, "publish"));
        var execute = spans.Single(s => IsFor(s, sent.Id, "execute"));
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal(ActivityKind.Consumer, execute.Kind);
        Assert.Equal(publish.TraceId, execute.TraceId);
        Assert.Equal(publish.SpanId, execute.ParentSpanId);
        Assert.Equal(worker.Node.Name, execute.GetTagItem("celery.hostname"));
    }

    [Fact]
    public async Task Task_outcomes_are_counted_by_outcome_and_runtimes_recorded()
    {
        var outcomes = new ConcurrentQueue<(long Value, string? Outcome, string? Task)>();
        var runtimes = new ConcurrentQueue<string?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ClusterQueueTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            outcomes.Enqueue((value, Tag(tags, "outcome"), Tag(tags, "task"))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => runtimes.Enqueue(Tag(tags, "task")));
        listener.Start();
        await using var worker = await StartAsync(TestBroker.Memory);

        await worker.ResultAsync((await worker.SendAsync("tasks.mul", 2, 2)).Id);
        await worker.ResultAsync((await worker.SendAsync("tasks.fail", "counted")).Id);
        await EventuallyAsync(() => outcomes.Any(o => o is { Outcome: "failed", Task: "tasks.fail" }), "the failure to be counted");

        Assert.Contains(outcomes, o => o is { Value: 1, Outcome: "succeeded", Task: "tasks.mul" });
        Assert.Contains("tasks.mul", runtimes);
    }

    private static bool IsFor(Activity span, string taskId, string operation) =>
        span.OperationName.StartsWith(operation, StringComparison.Ordinal) && (string?)span.GetTagItem("celery.task_id") == taskId;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
