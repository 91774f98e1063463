using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>When a message is acked, observed through the broker: what a stopped node leaves on the queue.</summary>
public sealed class AckAndShutdownTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task With_early_ack_a_task_cut_off_by_a_cold_shutdown_is_not_redelivered(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 1 });
        var gate = TestTasks.NewKey("early");

        var sent = await worker.SendAsync("test.wait", gate);
        await worker.EventAsync(sent.Id, TaskEventKind.Started);
        await worker.Node.ColdShutdownAsync();

        Assert.Equal(0, await worker.App.Transport.PurgeQueueAsync("celery"));
        Assert.Null(await worker.App.Results.GetAsync(sent.Id));
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task With_late_ack_a_task_cut_off_by_a_cold_shutdown_is_redelivered(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 1 });
        var gate = TestTasks.NewKey("late");

        var sent = await worker.SendAsync("test.late", gate);
        await worker.EventAsync(sent.Id, TaskEventKind.Started);
        await worker.Node.ColdShutdownAsync();

        var again = (await TakeAsync(worker.App.Transport, "celery", 1)).Single();
        Assert.Equal(sent.Id, again.Message.Headers["id"]);
        Assert.True(again.Redelivered);
        Assert.Null(await worker.App.Results.GetAsync(sent.Id));
        Assert.True(worker.Node.Completion.IsCompleted);
    }

    [Fact]
    public async Task The_nodes_acks_late_setting_applies_to_tasks_that_do_not_choose()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, AcksLate = true });
        var gate = TestTasks.NewKey("late-node");

        var sent = await worker.SendAsync("test.wait", gate);
        await worker.EventAsync(sent.Id, TaskEventKind.Started);
        await worker.Node.ColdShutdownAsync();

        Assert.Equal(sent.Id, (await TakeAsync(worker.App.Transport, "celery", 1)).Single().Message.Headers["id"]);
    }

    [Fact]
    public async Task A_late_ack_task_that_finishes_is_acked()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1 });
        var gate = TestTasks.NewKey("late-done");
        TestTasks.Open(gate);

        var sent = await worker.SendAsync("test.late", gate);
        await worker.ResultAsync(sent.Id);
        await worker.Node.ColdShutdownAsync();

        Assert.Equal(0, await worker.App.Transport.PurgeQueueAsync("celery"));
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_warm_shutdown_finishes_the_running_task_and_gives_reserved_ones_back(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 1 });
        var running = TestTasks.NewKey("running");
        var waiting = TestTasks.NewKey("waiting");

        var first = await worker.SendAsync("test.late", running);
        await worker.SendAsync("test.wait", waiting);
        await worker.SendAsync("test.wait", waiting);
        await EventuallyAsync(() => worker.Stats.Received == 3 && worker.Stats.Started == 1, "3 received and 1 started");
        var shutdown = worker.Node.WarmShutdownAsync();
        await EventuallyAsync(() => worker.Stats.Reserved == 0, "the reserved tasks to go back");
        Assert.False(shutdown.IsCompleted, "a warm shutdown waits for the running task");
        TestTasks.Open(running);
        await shutdown.WaitAsync(Patience);

        Assert.Equal(TaskStates.Success, (await worker.ResultAsync(first.Id)).Status);
        Assert.Equal(1, worker.Stats.Succeeded);
        Assert.Equal(1, worker.Stats.Started);
        Assert.True(worker.Node.Completion.IsCompleted);
        // The finished late-ack task was acked; the two reserved ones are back on the queue for another node.
        Assert.Equal(2, await worker.App.Transport.PurgeQueueAsync("celery"));
    }

    [Fact]
    public async Task A_warm_shutdown_that_times_out_turns_cold_and_requeues_late_ack_tasks()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        var gate = TestTasks.NewKey("never");

        var sent = await worker.SendAsync("test.late", gate);
        await worker.EventAsync(sent.Id, TaskEventKind.Started);
        await worker.Node.WarmShutdownAsync().WaitAsync(Patience);

        Assert.Equal(sent.Id, (await TakeAsync(worker.App.Transport, "celery", 1)).Single().Message.Headers["id"]);
        Assert.Null(await worker.App.Results.GetAsync(sent.Id));
    }

    [Fact]
    public async Task A_node_holding_an_eta_task_gives_it_back_on_shutdown()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, EtaHorizon = TimeSpan.FromMinutes(5) });

        // Published as a Python client does, with no delayed delivery, so it arrives at once and is held.
        var message = worker.App.Codec.Encode(new ClusterQueue.Protocol.TaskMessage { Task = "tasks.add", Id = "eta-held", Args = [1, 1], Eta = DateTimeOffset.UtcNow.AddMinutes(1) });
        await worker.App.Transport.PublishAsync("", "celery", message);
        await worker.EventAsync("eta-held", TaskEventKind.Received);
        await worker.Node.WarmShutdownAsync().WaitAsync(Patience);

        Assert.Equal(0, worker.Stats.Reserved);
        Assert.Equal(0, worker.Stats.Started);
        var back = await TakeAsync(worker.App.Transport, "celery", 1);
        Assert.Equal("eta-held", back.Single().Message.Headers["id"]);
    }
}
