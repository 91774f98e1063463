using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Membership;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Amqp;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Several real nodes on one broker: addressing, revocation across restarts and mingle, terminate, liveness and names.</summary>
public abstract class ClusterTests(ClusterBroker broker) : IAsyncLifetime
{
    protected ClusterKit Kit { get; } = ClusterKit.Create(broker);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Kit.DisposeAsync();

    [Fact]
    public async Task A_command_with_a_destination_reaches_only_the_named_node()
    {
        await Kit.StartAsync("alpha@test");
        await Kit.StartAsync("beta@test");

        var addressed = await Kit.Client.PingAsync(ControlTarget.Nodes("beta@test"), timeout: TimeSpan.FromSeconds(2));
        var everyone = await Kit.Client.PingAsync(timeout: ClusterKit.Patience, limit: 2);

        Assert.Equal(["beta@test"], addressed.Select(r => r.Node));
        Assert.Equal(["alpha@test", "beta@test"], everyone.Select(r => r.Node).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_revoke_survives_a_restart_of_the_node_with_the_same_state_db()
    {
        var settings = Kit.Settings("keeper@test");
        var first = await Kit.StartAsync(settings);
        var revokedId = Uuid.NewId();
        await Kit.RevokeAsync(revokedId, expectedReplies: 1);
        await first.WarmShutdownAsync();

        var app = Kit.App();
        var second = await Kit.StartAsync(settings, app);

        Assert.Contains(revokedId, second.Revoked.Snapshot());
        var revokedEvent = ClusterKit.WhenAsync(second, revokedId, TaskEventKind.Revoked);
        var sent = await app.ApplyAsync("tasks.add", [1, 2], options: new SendOptions { TaskId = revokedId });
        var evt = await revokedEvent;
        Assert.Equal("revoked", evt.Reason);
        var result = await app.Results.WaitAsync(revokedId, ClusterKit.Patience);
        Assert.Equal(TaskStates.Revoked, result.Status);
        Assert.Equal(0, second.Stats.Started);
        Assert.Equal(sent.Id, revokedId);
    }

    [Fact]
    public async Task A_node_that_was_down_learns_a_revoke_through_mingle_when_it_starts()
    {
        await Kit.StartAsync("up@test");
        var revokedId = Uuid.NewId();
        var replies = await Kit.RevokeAsync(revokedId, expectedReplies: 1);
        Assert.Equal(["up@test"], replies.Select(r => r.Node));

        var app = Kit.App();
        var late = await Kit.StartAsync(Kit.Settings("late@test") with { Queues = ["late-only"] }, app);

        Assert.Contains(revokedId, late.Revoked.Snapshot());
        var revokedEvent = ClusterKit.WhenAsync(late, revokedId, TaskEventKind.Revoked);
        await app.SendTaskAsync("tasks.add", [1, 2], options: new SendOptions { TaskId = revokedId, Queue = "late-only" });
        await revokedEvent;
        Assert.Equal(0, late.Stats.Started);
    }

    [Fact]
    public async Task A_task_revoked_while_it_waits_for_its_eta_is_discarded_when_the_eta_comes()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("eta@test") with { EtaHorizon = TimeSpan.FromMinutes(1) }, app);
        var held = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [1, 1], Eta = DateTimeOffset.UtcNow.AddSeconds(3) };
        var revoked = ClusterKit.WhenAsync(node, held.Id, TaskEventKind.Revoked);
        await app.Transport.PublishAsync("", "celery", app.Codec.Encode(held));
        await ClusterKit.EventuallyAsync(() => node.Stats.Received == 1, "the ETA task to be held");

        await Kit.RevokeAsync(held.Id, expectedReplies: 1);

        Assert.Equal("revoked", (await revoked).Reason);
        Assert.Equal(TaskStates.Revoked, (await app.Results.WaitAsync(held.Id, ClusterKit.Patience)).Status);
        Assert.Equal(0, node.Stats.Started);
        Assert.Equal(0, node.Stats.Reserved);
    }

    [Fact]
    public async Task Revoke_with_terminate_stops_a_running_sleep_and_records_it_as_terminated()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("runner@test") with { SendTaskEvents = true }, app);
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");
        var id = Uuid.NewId();
        var started = ClusterKit.WhenAsync(node, id, TaskEventKind.Started);
        var revoked = ClusterKit.WhenAsync(node, id, TaskEventKind.Revoked);
        await app.ApplyAsync("tasks.sleep", [600], options: new SendOptions { TaskId = id });
        await started;

        var replies = await Kit.RevokeAsync(id, expectedReplies: 1, terminate: true);

        var reply = Assert.Single(replies);
        Assert.Equal($"terminate: {id}", (string)reply.Value!["ok"]!);
        Assert.Equal("terminated", (await revoked).Reason);
        var result = await app.Results.WaitAsync(id, ClusterKit.Patience);
        Assert.Equal(TaskStates.Revoked, result.Status);
        Assert.Contains("terminated", result.Result!.ToJsonString());
        var evt = (TaskRevokedEvent)await ClusterKit.NextAsync(receiver, e => e is TaskRevokedEvent r && r.Uuid == id, "task-revoked");
        Assert.True(evt.Terminated);
        Assert.Equal(15, evt.Signum);
        Assert.False(evt.Expired);
        Assert.Equal(0, node.Stats.Active);
    }

    [Fact]
    public async Task Every_node_sees_the_others_as_Up_members_and_a_stopped_one_leaves()
    {
        var first = await Kit.StartAsync("first@test");
        var second = await Kit.StartAsync("second@test");

        await ClusterKit.EventuallyAsync(() => first.Members.Count(m => m.IsUp) == 2 && second.Members.Count(m => m.IsUp) == 2, "both nodes to be Up in both views");
        var member = first.Members.Single(m => m.Node == "second@test");
        Assert.Contains("worker", member.Roles);
        Assert.StartsWith("akka.tcp://cluster-queue@127.0.0.1:", member.Address);
        var reply = await Kit.InspectAsync("first@test", "members");
        Assert.Equal(["first@test", "second@test"], ClusterQueue.Fabric.ClusterPlane.ClusterMembers.FromJson(reply).Select(m => m.Node));

        await second.WarmShutdownAsync();

        await ClusterKit.EventuallyAsync(() => first.Members.All(m => m.Node != "second@test"), "the stopped node to leave the membership");
    }

    [Fact]
    public async Task The_cluster_carrier_reaches_every_node_with_the_pidbox_off()
    {
        var settings = Kit.Settings("a@test");
        WorkerSettings NoPidbox(WorkerSettings s) => s with { Fabric = s.Fabric with { Control = s.Fabric.Control with { Pidbox = false } } };
        var a = await Kit.StartAsync(NoPidbox(settings));
        await Kit.StartAsync(NoPidbox(Kit.Settings("b@test")));
        await using var client = ClusterKit.ClusterClient(a);

        // Subscriptions reach the other member by gossip; the broker carrier cannot answer at all.
        await ClusterKit.EventuallyAsync(
            () => client.PingAsync(timeout: TimeSpan.FromSeconds(1)).GetAwaiter().GetResult().Count == 2, "both nodes to answer a ping over the cluster");
        var limited = await client.RateLimitAsync("tasks.add", "7/s", timeout: ClusterKit.Patience, target: ControlTarget.Nodes("a@test", "b@test"));
        Assert.Equal(["a@test", "b@test"], limited.Select(r => r.Node).Order());
        Assert.All(limited, r => Assert.Contains("new rate limit set successfully", r.Value!.ToJsonString()));
        var viaBroker = await Kit.Client.PingAsync(timeout: TimeSpan.FromSeconds(1));
        Assert.Empty(viaBroker);
    }

    [Fact]
    public async Task A_mailbox_that_lost_its_broker_connection_is_started_again()
    {
        var faulty = new FaultyTransport(TransportRegistry.CreateDefault().Open(Kit.Broker));
        await using var _ = faulty;
        var node = await Kit.StartAsync(Kit.Settings("flaky@test"), Kit.App(transport: faulty));
        var opened = faulty.ConsumersOpened;

        await faulty.FaultConsumersAsync();

        // The mailbox and the queue consumer each consume again.
        await ClusterKit.EventuallyAsync(() => faulty.ConsumersOpened >= opened + 2, "every consumer to be opened again");
        var pong = await Kit.Client.PingAsync(ControlTarget.Nodes("flaky@test"), timeout: ClusterKit.Patience, limit: 1);
        Assert.Equal(["flaky@test"], pong.Select(r => r.Node));
        await node.ColdShutdownAsync();
    }

    [Fact]
    public async Task A_node_starting_under_a_live_nodes_name_is_refused()
    {
        await Kit.StartAsync("twin@test");

        var refused = await Assert.ThrowsAsync<NodeNameInUseException>(() => Kit.StartAsync("twin@test"));

        Assert.Equal("twin@test", refused.NodeName);
        Assert.Contains("'twin@test' is already alive", refused.Message);
        Assert.Equal("pong", (string)(await Kit.InspectAsync("twin@test", "ping"))!["ok"]!);
    }

    [Fact]
    public async Task Without_mingle_the_cluster_refuses_the_name()
    {
        await Kit.StartAsync("twin@test");
        var settings = Kit.Settings("twin@test");

        await Assert.ThrowsAsync<NodeNameInUseException>(() => Kit.StartAsync(settings with
        {
            Fabric = settings.Fabric with { Mingle = settings.Fabric.Mingle with { Enabled = false } },
        }));
    }

    [Fact]
    public async Task A_name_freed_by_a_warm_shutdown_can_be_taken_again()
    {
        var first = await Kit.StartAsync("reused@test");
        await first.WarmShutdownAsync();

        var second = await Kit.StartAsync("reused@test");

        Assert.Equal("reused@test", second.Name);
    }
}

public sealed class ClusterMemoryTests() : ClusterTests(ClusterBroker.Memory);

public sealed class ClusterSqliteTests() : ClusterTests(ClusterBroker.Sqlite);

[Trait("Server", AmqpTestBroker.Trait)]
public sealed class ClusterAmqpTests() : ClusterTests(ClusterBroker.Amqp);
