using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Queue consumers: restart after a lost channel, and fair hand-out between nodes.</summary>
public sealed class ConsumerTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_consumer_whose_channel_faults_is_restarted_and_no_message_is_lost(TestBroker broker)
    {
        var transport = new FaultyTransport(TransportRegistry.CreateDefault().Open(NewBroker(broker)));
        await using var _ = transport;
        await using var results = ResultBackends.Open(new ResultSettings { Backend = "memory://" });
        var app = new ClusterQueueApp(transport, results, Registry());
        await using var harness = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 1 });
        var node = harness.Node;
        var gate = TestTasks.NewKey("busy");

        var busy = await app.ApplyAsync("test.wait", [gate]);
        var reserved = new[] { await app.ApplyAsync("tasks.add", [1, 1]), await app.ApplyAsync("tasks.add", [2, 2]) };
        await EventuallyAsync(() => node.Stats.Received == 3 && node.Stats.Started == 1, "3 received and 1 started");
        await transport.FaultConsumersAsync();
        await EventuallyAsync(() => transport.ConsumersOpened >= 2, "the consumer to be restarted");
        TestTasks.Open(gate);
        var after = await app.ApplyAsync("tasks.add", [3, 3]);

        Assert.Equal(TaskStates.Success, (await harness.WaitForResultAsync(busy.Id)).Status);
        Assert.Equal(2, (await harness.WaitForResultAsync(reserved[0].Id)).Result!.GetValue<long>());
        Assert.Equal(4, (await harness.WaitForResultAsync(reserved[1].Id)).Result!.GetValue<long>());
        Assert.Equal(6, (await harness.WaitForResultAsync(after.Id)).Result!.GetValue<long>());
        // Each reserved task ran once: it was dropped with the lost channel and taken again from the broker.
        Assert.All(reserved, r => Assert.Single(harness.Events, e => e.TaskId == r.Id && e.Kind == TaskEventKind.Started));
        Assert.Equal(0, node.Stats.Reserved);
    }

    [Fact]
    public async Task In_fair_mode_an_idle_node_gets_the_next_task_while_a_busy_one_holds_none()
    {
        var broker = NewBroker(TestBroker.Memory);
        await using var app = OpenApp(broker, Registry());
        var fair = new WorkerSettings { Concurrency = 1, PrefetchMultiplier = 4, Optimization = "fair" };
        await using var first = await WorkerTestHarness.StartAsync(app, fair with { Name = "first@%h" });
        await using var second = await WorkerTestHarness.StartAsync(app, fair with { Name = "second@%h" });
        var gate = TestTasks.NewKey("slow");
        try
        {
            var slow = await app.ApplyAsync("test.wait", [gate]);
            await EventuallyAsync(() => first.Node.Stats.Started + second.Node.Stats.Started == 1, "the slow task to start");
            var (busy, idle) = first.Node.Stats.Started == 1 ? (first, second) : (second, first);

            var quick = new List<AsyncResult>();
            for (var i = 0; i < 3; i++)
            {
                quick.Add(await app.ApplyAsync("tasks.add", [i, 1]));
            }

            foreach (var task in quick)
            {
                await idle.WaitForEventAsync(task.Id, TaskEventKind.Succeeded);
            }

            Assert.False(await app.AsyncResult(slow.Id).ReadyAsync(), "the slow task is still running");
            Assert.DoesNotContain(busy.Events, e => e.Kind == TaskEventKind.Received && quick.Any(q => q.Id == e.TaskId));
            Assert.Equal(0, busy.Node.Stats.Reserved);
        }
        finally
        {
            TestTasks.Open(gate);
        }
    }

    [Fact]
    public async Task A_node_consumes_every_queue_it_is_given()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, Queues = ["celery", "reports"] });

        var plain = await worker.SendAsync("tasks.add", 1, 2);
        var routed = await worker.SendAsync("tasks.add", new SendOptions { Queue = "reports" }, 3, 4);

        Assert.Equal(3, (await worker.ResultAsync(plain.Id)).Result!.GetValue<long>());
        Assert.Equal(7, (await worker.ResultAsync(routed.Id)).Result!.GetValue<long>());
    }

    [Theory]
    [InlineData("default", 3, 2, 6)]
    [InlineData("default", 2, 0, 0)]
    [InlineData("fair", 3, 4, 3)]
    public async Task The_prefetch_window_is_concurrency_times_the_multiplier(string optimization, int concurrency, int multiplier, int expected)
    {
        var transport = new FaultyTransport(TransportRegistry.CreateDefault().Open(NewBroker(TestBroker.Memory)));
        await using var _ = transport;
        var app = new ClusterQueueApp(transport, tasks: Registry());
        var settings = new WorkerSettings { Concurrency = concurrency, PrefetchMultiplier = multiplier, Optimization = optimization };
        await using var harness = await WorkerTestHarness.StartAsync(app, settings);

        // The node also consumes its pidbox and its membership events, without a prefetch window.
        var (queue, options) = transport.Consumed.Single(c => c.Queue == "celery");

        Assert.Equal("celery", queue);
        Assert.Equal(expected, options.Prefetch);
    }
}
