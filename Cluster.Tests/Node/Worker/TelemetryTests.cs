using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Logging;
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

public sealed class LoggingScopeTests
{
    [Fact]
    public async Task Log_lines_written_while_a_task_runs_carry_the_node_name_and_task_id()
    {
        var provider = new RecordingLoggerProvider();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(provider));
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        await using var harness = await ClusterQueue.Node.Hosting.WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 1 }, logging);

        var sent = await app.ApplyAsync("tasks.fail", ["logged"]);
        await harness.WaitForResultAsync(sent.Id);
        await EventuallyAsync(() => provider.Lines.Any(l => l.Message.Contains(sent.Id, StringComparison.Ordinal)), "the failure to be logged");

        var line = provider.Lines.First(l => l.Message.Contains(sent.Id, StringComparison.Ordinal));
        Assert.Contains(new KeyValuePair<string, object?>("TaskId", sent.Id), line.Scope);
        Assert.Contains(new KeyValuePair<string, object?>("NodeName", harness.Node.Name), line.Scope);
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Message, List<KeyValuePair<string, object?>> Scope)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Recorder(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Recorder(RecordingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new List<KeyValuePair<string, object?>>();
                owner._scopes.ForEachScope(
                    (value, list) =>
                    {
                        if (value is IEnumerable<KeyValuePair<string, object>> pairs)
                        {
                            list.AddRange(pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)));
                        }
                    },
                    scope);
                owner.Lines.Enqueue((formatter(state, exception), scope));
            }
        }
    }
}
