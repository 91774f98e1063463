using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Membership;

namespace ClusterQueue.Tests.Fabric;

public class MembershipTests
{
    private readonly FabricClock clock = new(FabricFixtures.Epoch);

    [Fact]
    public void Online_IsAliveUntilTwiceFreqWithoutHeartbeat()
    {
        var membership = new HeartbeatMembership(clock);

        membership.Apply(Worker(WorkerEvent.Online, "a@h", freq: 2.0));
        clock.Advance(TimeSpan.FromSeconds(3.999));
        Assert.True(membership.IsAlive("a@h"));

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(membership.IsAlive("a@h"));
    }

    [Fact]
    public void Heartbeat_ExtendsLiveness_AndRevivesATimedOutNode()
    {
        var membership = new HeartbeatMembership(clock);
        membership.Apply(Worker(WorkerEvent.Online, "a@h"));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(membership.IsAlive("a@h"));

        membership.Apply(Worker(WorkerEvent.Heartbeat, "a@h"));
        clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(membership.IsAlive("a@h"));
    }

    [Fact]
    public void Offline_EndsLivenessAtOnce()
    {
        var membership = new HeartbeatMembership(clock);
        membership.Apply(Worker(WorkerEvent.Online, "a@h"));

        membership.Apply(Worker(WorkerEvent.Offline, "a@h"));

        Assert.False(membership.IsAlive("a@h"));
        Assert.True(Assert.Single(membership.Snapshot()).Offline);
    }

    [Fact]
    public void TaskEvents_CountAsHeartbeats()
    {
        var membership = new HeartbeatMembership(clock);
        membership.Apply(Worker(WorkerEvent.Online, "a@h"));
        clock.Advance(TimeSpan.FromSeconds(3));

        membership.Apply(new TaskStartedEvent("t1") { Hostname = "a@h" });
        clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(membership.IsAlive("a@h"));
    }

    [Fact]
    public void TheLocalReceiveTimeCounts_NotTheSendersTimestamp()
    {
        var membership = new HeartbeatMembership(clock);

        // A sender whose clock is an hour behind is still alive: Celery measures from local receipt.
        membership.Apply(Worker(WorkerEvent.Heartbeat, "a@h") with { Timestamp = FabricFixtures.Epoch.AddHours(-1).ToUnixTimeSeconds() });

        Assert.True(membership.IsAlive("a@h"));
    }

    [Fact]
    public void ReceivedEvents_UseTheirReceiveTime()
    {
        var membership = new HeartbeatMembership(clock);

        membership.Apply(new ReceivedEvent(Worker(WorkerEvent.Heartbeat, "a@h"), clock.GetUtcNow().AddSeconds(-10)));

        Assert.False(membership.IsAlive("a@h"));
    }

    [Fact]
    public void Snapshot_ListsEveryNodeWithItsState()
    {
        var membership = new HeartbeatMembership(clock);
        membership.Apply(Worker(WorkerEvent.Online, "b@h", freq: 10));
        membership.Apply(Worker(WorkerEvent.Online, "a@h"));
        clock.Advance(TimeSpan.FromSeconds(5));

        var members = membership.Snapshot();

        Assert.Equal(["a@h", "b@h"], members.Select(m => m.Name));
        Assert.False(members[0].Alive);
        Assert.True(members[1].Alive);
        Assert.Equal(10, members[1].Freq);
        Assert.Equal(["b@h"], membership.AliveNodes());
    }

    [Fact]
    public void OfflineFromAnUnknownNode_AddsNothing()
    {
        var membership = new HeartbeatMembership(clock);

        membership.Apply(Worker(WorkerEvent.Offline, "ghost@h"));

        Assert.Empty(membership.Snapshot());
    }

    [Fact]
    public void EnsureNameAvailable_RefusesALiveName_AndAllowsItOnceGone()
    {
        var membership = new HeartbeatMembership(clock);
        membership.Apply(Worker(WorkerEvent.Online, "celery@vm"));

        var error = Assert.Throws<NodeNameInUseException>(() => membership.EnsureNameAvailable("celery@vm"));
        membership.EnsureNameAvailable("celery@vm2");
        clock.Advance(TimeSpan.FromSeconds(4));
        membership.EnsureNameAvailable("celery@vm");

        Assert.Equal("celery@vm", error.NodeName);
        Assert.Contains("'celery@vm'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FoldedFromAReceiver_SeesAWorkerComeAndGo()
    {
        await using var transport = FabricTestKit.MemoryTransport();
        await using var receiver = new EventReceiver(transport, "worker.#", time: clock);
        await receiver.StartAsync();
        await using var worker = new EventDispatcher(transport, "celery@vm", new LamportClock());
        await worker.StartAsync();
        var membership = new HeartbeatMembership(clock);

        await worker.SendAsync(new WorkerEvent(WorkerEvent.Online));
        membership.Apply(await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "worker-online"));
        var aliveAfterOnline = membership.IsAlive("celery@vm");
        await worker.SendAsync(new WorkerEvent(WorkerEvent.Offline));
        membership.Apply(await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "worker-offline"));

        Assert.True(aliveAfterOnline);
        Assert.False(membership.IsAlive("celery@vm"));
    }

    private WorkerEvent Worker(string type, string host, double freq = 2.0) =>
        new(type) { Hostname = host, Freq = freq, Active = 0, Processed = 0, Timestamp = clock.GetUtcNow().ToUnixTimeSeconds() };
}

public class FabricSettingsTests
{
    [Fact]
    public void Settings_BindReferenceConfDefaults_AndTheyAreCelerys()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;

        var events = configuration.GetSettings<EventsSettings>("events");
        var control = configuration.GetSettings<ControlSettings>("control");
        var revocation = configuration.GetSettings<RevocationSettings>("revocation");
        var mingle = configuration.GetSettings<MingleSettings>("mingle");

        Assert.Equal(new EventsSettings(), events);
        Assert.Equal(new ControlSettings(), control);
        Assert.Equal(new RevocationSettings(), revocation);
        Assert.Equal(new MingleSettings(), mingle);
        Assert.Equal(("celeryev", 5.0, 60.0, 2.0), (events.Exchange, events.QueueTtl.TotalSeconds, events.QueueExpires.TotalSeconds, events.HeartbeatInterval.TotalSeconds));
        Assert.Equal(("celery", 300.0, 10.0, 1.0), (control.Exchange, control.QueueTtl.TotalSeconds, control.QueueExpires.TotalSeconds, control.ReplyTimeout.TotalSeconds));
        Assert.Equal((50_000, 3.0), (revocation.MaxIds, revocation.Expires.TotalHours));
        Assert.Equal((true, 1.0), (mingle.Enabled, mingle.Timeout.TotalSeconds));
    }
}
