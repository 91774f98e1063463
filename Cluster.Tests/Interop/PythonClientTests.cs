using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Transport.Amqp;
using ClusterQueue.Transport.Amqp;

namespace ClusterQueue.Tests.Interop;

/// <summary>A Python Celery client (client.py) sends tasks to our worker on RabbitMQ and reads the results over rpc://.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class PythonClientTests
{
    [Fact]
    public async Task Send_task_add_2_2_returns_4()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "add");

        Assert.Equal(4, printed["result"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_failing_task_raises_in_Python_with_our_exception_type_and_message()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "fail");

        var raised = printed["raised"]!;
        Assert.Equal("InvalidOperationException", raised["exc_class"]!.GetValue<string>());
        Assert.Equal("boom from python", raised["message"]!.GetValue<string>());
        Assert.Equal(TaskStates.Failure, printed["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_countdown_holds_the_task_until_its_eta()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "countdown");

        Assert.Equal(3, printed["result"]!.GetValue<int>());
        // A lower bound only: the worker must not run it before its 2 s countdown (less a margin for clock reading).
        Assert.True(printed["elapsed"]!.GetValue<double>() >= 1.5, $"the result came {printed["elapsed"]} s after sending, before the countdown ended");
    }

    [Fact]
    public async Task An_already_expired_task_comes_back_REVOKED_and_raises_TaskRevokedError()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "expired");

        Assert.Equal("TaskRevokedError", printed["raised"]!["exc_class"]!.GetValue<string>());
        Assert.Equal("expired", printed["raised"]!["message"]!.GetValue<string>());
        Assert.Equal(TaskStates.Revoked, printed["state"]!.GetValue<string>());
        var revoked = await worker.Harness.WaitForEventAsync(printed["id"]!.GetValue<string>(), TaskEventKind.Revoked);
        Assert.Equal("expired", revoked.Reason);
        Assert.Equal(0, worker.Harness.Node.Stats.Succeeded);
    }

    [Fact]
    public async Task Tasks_sent_with_priorities_all_run()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "priority");

        // The default celery queue has no x-max-priority, so, as on a Python worker, priority does not reorder it.
        Assert.True(JsonNode.DeepEquals(new JsonArray(0, 5, 9), printed["results"]));
    }

    [Fact]
    public async Task On_a_priority_queue_our_worker_takes_the_highest_priority_first_as_a_Python_worker_does()
    {
        const int maxPriority = 10;
        var vhost = AmqpTestBroker.NewVhost();
        var printed = await PythonCelery.RunClientAsync(
            AmqpTestBroker.UrlOf(vhost), "send_priorities", new Dictionary<string, string> { ["CQ_INTEROP_MAX_PRIORITY"] = $"{maxPriority}" });
        var sent = printed["sent"]!.AsArray().ToDictionary(s => s!["id"]!.GetValue<string>(), s => s!["priority"]!.GetValue<int>());

        var started = new ConcurrentQueue<string>();
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var succeeded = 0;
        void OnEvent(TaskLifecycleEvent e)
        {
            if (e.Kind == TaskEventKind.Started)
            {
                started.Enqueue(e.TaskId);
            }
            else if (e.Kind == TaskEventKind.Succeeded && Interlocked.Increment(ref succeeded) == sent.Count)
            {
                allDone.TrySetResult();
            }
        }

        // Declared with the same x-max-priority as Python's task_queue_max_priority; one message reserved at a time.
        var broker = AmqpTestBroker.Settings(vhost, new AmqpSettings { ConfirmPublish = true, MaxPriority = maxPriority });
        await using var app = ClusterQueueApp.Open(broker, tasks: WorkerHarness.Registry());
        await using var worker = await WorkerNode.StartAsync(
            new WorkerSettings { Concurrency = 1, PrefetchMultiplier = 1 }, app, logging: null, observer: OnEvent, CancellationToken.None);
        await allDone.Task.WaitAsync(PythonCelery.Patience);

        Assert.Equal([9, 5, 3, 1, 0], started.Select(id => sent[id]));
    }

    [Fact]
    public async Task An_ignore_result_task_runs_but_sends_no_result()
    {
        // One task at a time: the follow-up's result is published after anything the ignored task could have sent.
        await using var worker = await OurWorker.StartAsync(concurrency: 1);

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "ignore_result");

        Assert.Equal(2, printed["after"]!.GetValue<int>());
        Assert.Equal(TaskStates.Pending, printed["ignored_state"]!.GetValue<string>());
        await worker.Harness.WaitForEventAsync(printed["ignored_id"]!.GetValue<string>(), TaskEventKind.Succeeded);
    }

    [Fact]
    public async Task A_python_chain_add_then_mul_runs_on_our_worker_and_gives_40()
    {
        await using var worker = await OurWorker.StartAsync();

        var printed = await PythonCelery.RunClientAsync(worker.PythonBrokerUrl, "chain");

        Assert.Equal(40, printed["result"]!.GetValue<int>());
        Assert.Equal(4, printed["parent_result"]!.GetValue<int>());
        await worker.Harness.WaitForEventAsync(printed["parent_id"]!.GetValue<string>(), TaskEventKind.Succeeded);
        await worker.Harness.WaitForEventAsync(printed["id"]!.GetValue<string>(), TaskEventKind.Succeeded);
    }

    /// <summary>Our worker in this process, on a vhost of its own, with the rpc backend, as a Python client expects.</summary>
    private sealed class OurWorker(WorkerTestHarness harness, ClusterQueueApp app, string vhost) : IAsyncDisposable
    {
        public WorkerTestHarness Harness { get; } = harness;

        public string PythonBrokerUrl { get; } = AmqpTestBroker.UrlOf(vhost);

        public static async Task<OurWorker> StartAsync(int concurrency = 2)
        {
            var vhost = AmqpTestBroker.NewVhost();
            var app = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = "rpc://" }, tasks: WorkerHarness.Registry());
            try
            {
                return new OurWorker(await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = concurrency }), app, vhost);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await Harness.DisposeAsync();
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
    }
}
