using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Expiry and ETA. Messages are published straight to the transport, as a Python client does: no delayed delivery.</summary>
public sealed class ScheduleTests
{
    /// <summary>Timestamps come from different clocks (broker millisecond times, event times); allow that much slack.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMilliseconds(50);

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_task_past_its_expiry_is_not_run_and_is_REVOKED_as_expired(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);
        var message = new TaskMessage
        {
            Task = "tasks.add",
            Id = Uuid.NewId(),
            Args = [1, 1],
            Expires = DateTimeOffset.UtcNow.AddSeconds(-5),
            // An explicit TTL keeps the broker from dropping it first, so the worker's own check is what is tested.
            Expiration = "600000",
        };

        await worker.App.Transport.PublishAsync("", "celery", worker.App.Codec.Encode(message));
        var result = await worker.ResultAsync(message.Id);

        Assert.Equal(TaskStates.Revoked, result.Status);
        Assert.Equal("TaskRevokedError", result.Exception!.ExcType);
        Assert.Equal("expired", result.Exception.Message);
        var revoked = await worker.EventAsync(message.Id, TaskEventKind.Revoked);
        Assert.Equal("expired", revoked.Reason);
        Assert.DoesNotContain(worker.EventsOf(message.Id), e => e.Kind == TaskEventKind.Started);
        Assert.Equal(0, worker.Stats.Started);
        Assert.Equal(0, worker.Stats.Reserved);
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task An_eta_beyond_the_horizon_goes_back_to_the_broker_as_a_delayed_message_and_runs_at_its_eta(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 1, EtaHorizon = TimeSpan.FromMilliseconds(300) });
        var eta = DateTimeOffset.UtcNow.AddSeconds(2);
        var message = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [2, 2], Eta = eta };

        await worker.App.Transport.PublishAsync("", "celery", worker.App.Codec.Encode(message));
        var result = await worker.ResultAsync(message.Id);

        Assert.Equal(4, result.Result!.GetValue<long>());
        var received = await worker.EventAsync(message.Id, TaskEventKind.Received);
        var started = await worker.EventAsync(message.Id, TaskEventKind.Started);
        // Not held in memory: the node saw it as a task only when the broker released it near its ETA.
        Assert.True(received.Timestamp >= eta - TimeSpan.FromMilliseconds(300) - ClockSlack, $"received at {received.Timestamp:O}, eta {eta:O}");
        Assert.True(started.Timestamp >= eta - ClockSlack, $"started at {started.Timestamp:O}, eta {eta:O}");
        Assert.Equal(1, worker.Stats.Received);
    }

    [Fact]
    public async Task An_eta_within_the_horizon_is_held_by_the_node_and_runs_at_its_eta()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, EtaHorizon = TimeSpan.FromSeconds(10) });
        var eta = DateTimeOffset.UtcNow.AddSeconds(1.5);
        var message = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [3, 3], Eta = eta };

        await worker.App.Transport.PublishAsync("", "celery", worker.App.Codec.Encode(message));
        var received = await worker.EventAsync(message.Id, TaskEventKind.Received);
        var result = await worker.ResultAsync(message.Id);
        var started = await worker.EventAsync(message.Id, TaskEventKind.Started);

        Assert.Equal(6, result.Result!.GetValue<long>());
        Assert.True(received.Timestamp < eta, "a task within the horizon is received at once and held");
        Assert.True(started.Timestamp >= eta - ClockSlack, $"started at {started.Timestamp:O}, eta {eta:O}");
    }

    [Fact]
    public async Task A_countdown_sent_by_the_client_runs_after_the_countdown()
    {
        await using var worker = await StartAsync(TestBroker.Memory);
        var before = DateTimeOffset.UtcNow;

        var sent = await worker.SendAsync("tasks.add", new SendOptions { Countdown = TimeSpan.FromSeconds(1) }, 1, 2);
        await worker.ResultAsync(sent.Id);
        var started = await worker.EventAsync(sent.Id, TaskEventKind.Started);

        Assert.True(started.Timestamp >= before + TimeSpan.FromSeconds(1) - ClockSlack);
    }

    [Fact]
    public async Task A_held_eta_task_raises_the_prefetch_so_it_does_not_block_the_window()
    {
        // Prefetch 1: without the raise, the held message would fill the window until its ETA.
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, PrefetchMultiplier = 1, EtaHorizon = TimeSpan.FromMinutes(5) });
        var eta = DateTimeOffset.UtcNow.AddSeconds(3);
        var held = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [1, 1], Eta = eta };

        await worker.App.Transport.PublishAsync("", "celery", worker.App.Codec.Encode(held));
        await worker.EventAsync(held.Id, TaskEventKind.Received);
        var now = await worker.SendAsync("tasks.add", 2, 2);
        var done = await worker.EventAsync(now.Id, TaskEventKind.Succeeded);

        Assert.True(done.Timestamp < eta, $"the second task finished at {done.Timestamp:O}, not before the held one's ETA {eta:O}");
        Assert.Equal(TaskStates.Success, (await worker.ResultAsync(held.Id)).Status);
    }

    [Fact]
    public async Task The_state_lists_active_reserved_and_scheduled_tasks()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, EtaHorizon = TimeSpan.FromMinutes(5) });
        var gate = TestTasks.NewKey("state");
        var scheduled = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [1, 1], Eta = DateTimeOffset.UtcNow.AddMinutes(1) };
        try
        {
            var active = await worker.SendAsync("test.wait", gate);
            var reserved = await worker.SendAsync("tasks.add", 5, 5);
            await worker.App.Transport.PublishAsync("", "celery", worker.App.Codec.Encode(scheduled));
            await EventuallyAsync(() => worker.Stats.Received == 3 && worker.Stats.Started == 1, "3 received and 1 started");

            var tasks = await worker.Node.InspectTasksAsync();

            Assert.Equal([active.Id], tasks.Active.Select(t => t.Id));
            Assert.Equal([reserved.Id], tasks.Reserved.Select(t => t.Id));
            Assert.Equal("(5, 5)", tasks.Reserved[0].ArgsRepr);
            Assert.Equal([scheduled.Id], tasks.Scheduled.Select(t => t.Id));
            TestTasks.Open(gate);
            await worker.ResultAsync(reserved.Id);
            var after = await worker.Node.InspectTasksAsync();
            Assert.Empty(after.Active);
            Assert.Empty(after.Reserved);
            Assert.Single(after.Scheduled);
        }
        finally
        {
            TestTasks.Open(gate);
        }
    }
}
