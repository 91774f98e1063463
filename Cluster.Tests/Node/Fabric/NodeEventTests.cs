using ClusterQueue.Client;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>The events a node publishes: worker-online, heartbeats and worker-offline always; task events with -E, in Celery's fields.</summary>
public abstract class NodeEventTests(ClusterBroker broker) : IAsyncLifetime
{
    protected ClusterKit Kit { get; } = ClusterKit.Create(broker);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Kit.DisposeAsync();

    [Fact]
    public async Task A_node_announces_itself_online_beats_and_says_offline_when_it_stops()
    {
        await using var receiver = await Kit.ReceiveEventsAsync("worker.#");
        var node = await Kit.StartAsync("events@test");

        var online = (WorkerEvent)await ClusterKit.NextAsync(receiver, e => e.Type == WorkerEvent.Online && e.Hostname == "events@test", "worker-online");
        var beat = (WorkerEvent)await ClusterKit.NextAsync(receiver, e => e.Type == WorkerEvent.Heartbeat && e.Hostname == "events@test", "worker-heartbeat");
        await node.WarmShutdownAsync();
        var offline = await ClusterKit.NextAsync(receiver, e => e.Type == WorkerEvent.Offline && e.Hostname == "events@test", "worker-offline");

        Assert.Equal(1.0, online.Freq);
        Assert.NotNull(beat.Active);
        Assert.NotNull(beat.Loadavg);
        Assert.Equal(SoftwareInfo.Ident, beat.SwIdent);
        // One app clock stamps them all, so each is later than the one before.
        Assert.True(online.Clock < beat.Clock && beat.Clock < offline.Clock);
    }

    [Fact]
    public async Task With_send_task_events_a_task_reports_received_started_and_succeeded_with_Celery_fields()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("events@test") with { SendTaskEvents = true }, app);
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");

        var sent = await app.ApplyAsync("tasks.add", [2, 3]);

        var received = (TaskReceivedEvent)await ClusterKit.NextAsync(receiver, e => e is TaskReceivedEvent r && r.Uuid == sent.Id, "task-received");
        var started = await ClusterKit.NextAsync(receiver, e => e is TaskStartedEvent s && s.Uuid == sent.Id, "task-started");
        var succeeded = (TaskSucceededEvent)await ClusterKit.NextAsync(receiver, e => e is TaskSucceededEvent s && s.Uuid == sent.Id, "task-succeeded");
        Assert.Equal("tasks.add", received.Name);
        Assert.Equal("(2, 3)", received.Args);
        Assert.Equal("{}", received.Kwargs);
        Assert.Equal(sent.Id, received.RootId);
        Assert.Equal("events@test", started.Hostname);
        Assert.Equal("5", succeeded.Result);
        Assert.True(succeeded.Runtime >= 0);
        Assert.True(received.Clock < started.Clock && started.Clock < succeeded.Clock);
    }

    [Fact]
    public async Task A_failing_task_reports_its_exception_repr_and_traceback()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("events@test") with { SendTaskEvents = true }, app);
        // Task events travel batched under task.multi, as a Python worker sends them, so task.failed alone would miss them.
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");

        var sent = await app.ApplyAsync("tasks.fail", ["boom"]);

        var failed = (TaskFailedEvent)await ClusterKit.NextAsync(receiver, e => e is TaskFailedEvent f && f.Uuid == sent.Id, "task-failed");
        Assert.Contains("('boom')", failed.Exception);
        Assert.False(string.IsNullOrEmpty(failed.Traceback));
    }

    [Fact]
    public async Task An_unregistered_task_is_reported_as_task_failed_with_NotRegistered_and_no_traceback()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("events@test") with { SendTaskEvents = true }, app);
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");

        var sent = await app.SendTaskAsync("tasks.does_not_exist");

        var failed = (TaskFailedEvent)await ClusterKit.NextAsync(receiver, e => e is TaskFailedEvent f && f.Uuid == sent.Id, "task-failed");
        Assert.Equal("NotRegistered('tasks.does_not_exist')", failed.Exception);
        Assert.Null(failed.Traceback);
        Assert.DoesNotContain("traceback", failed.ToJson().Select(p => p.Key));
    }

    [Fact]
    public async Task A_revoked_task_that_arrives_is_discarded_with_a_task_revoked_event()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("events@test") with { SendTaskEvents = true }, app);
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");
        var id = Uuid.NewId();
        await Kit.RevokeAsync(id, expectedReplies: 1);

        await app.ApplyAsync("tasks.add", [1, 1], options: new SendOptions { TaskId = id });

        var revoked = (TaskRevokedEvent)await ClusterKit.NextAsync(receiver, e => e is TaskRevokedEvent r && r.Uuid == id, "task-revoked");
        Assert.False(revoked.Terminated);
        Assert.Null(revoked.Signum);
        Assert.Equal(ClusterQueue.Results.TaskStates.Revoked, (await app.Results.WaitAsync(id, ClusterKit.Patience)).Status);
        Assert.Equal(1, node.Stats.Revoked);
        Assert.Equal(0, node.Stats.Reserved);
    }

    [Fact]
    public async Task Without_send_task_events_no_task_event_precedes_the_next_worker_event()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("quiet@test"), app);
        await using var receiver = await Kit.ReceiveEventsAsync("#");
        var sent = await app.ApplyAsync("tasks.add", [1, 1]);
        await sent.GetAsync(ClusterKit.Patience);

        // Worker events are always sent: the shutdown's worker-offline ends the stream, and no task event came before it.
        await node.WarmShutdownAsync();
        var seen = new List<ClusterEvent>();
        await ClusterKit.NextAsync(receiver, e =>
        {
            seen.Add(e);
            return e.Type == WorkerEvent.Offline && e.Hostname == "quiet@test";
        }, "worker-offline");
        Assert.DoesNotContain(seen, e => e.IsTaskEvent);
    }
}

public sealed class NodeEventMemoryTests() : NodeEventTests(ClusterBroker.Memory);

public sealed class NodeEventSqliteTests() : NodeEventTests(ClusterBroker.Sqlite);

[Trait("Server", AmqpTestBroker.Trait)]
public sealed class NodeEventAmqpTests() : NodeEventTests(ClusterBroker.Amqp);
