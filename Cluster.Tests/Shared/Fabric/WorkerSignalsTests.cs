using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

/// <summary>The worker-facing pieces built on the event bus: heartbeats and the event-related control commands.</summary>
public sealed class WorkerSignalsTests : IAsyncLifetime
{
    private readonly ITransport transport = FabricTestKit.MemoryTransport();
    private EventReceiver receiver = null!;
    private EventDispatcher dispatcher = null!;

    public async Task InitializeAsync()
    {
        receiver = new EventReceiver(transport);
        await receiver.StartAsync();
        dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock());
        await dispatcher.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await dispatcher.DisposeAsync();
        await receiver.DisposeAsync();
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task Heartbeat_SendsOnlineThenHeartbeatsThenOffline_WithTheWorkersLoad()
    {
        var processed = 0L;
        var heartbeat = new WorkerHeartbeat(dispatcher, () => new WorkerLoad(2, Interlocked.Increment(ref processed)), TimeSpan.FromMilliseconds(50));

        await heartbeat.StartAsync();
        var online = await NextAsync();
        var beat = await NextAsync();
        await heartbeat.DisposeAsync();
        var last = await NextAsync();
        while (last.Type != WorkerEvent.Offline) last = await NextAsync();

        Assert.Equal(WorkerEvent.Online, online.Type);
        Assert.Equal(WorkerEvent.Heartbeat, beat.Type);
        var worker = Assert.IsType<WorkerEvent>(beat);
        Assert.Equal(0.05, worker.Freq);
        Assert.Equal(2, worker.Active);
        Assert.True(worker.Processed >= 2);
        Assert.Equal(3, worker.Loadavg!.Count);
        Assert.True(last.Clock > beat.Clock);
    }

    [Fact]
    public async Task HeartbeatCommand_RepliesNull_AndSendsTheShortHeartbeatAtOnce()
    {
        await using var node = new PidboxNode(transport, "celery@vm", new ControlHandlerRegistry([FabricControlHandlers.Heartbeat(dispatcher)]));
        await node.StartAsync();
        await using var client = new PidboxClient(transport);

        var replies = await client.CommandAsync("heartbeat", ControlTarget.Nodes("celery@vm"), timeout: FabricTestKit.Patience);
        var evt = await NextAsync();

        Assert.Null(Assert.Single(replies).Value);
        var json = evt.ToJson();
        Assert.Equal(["hostname", "utcoffset", "pid", "clock", "freq", "sw_ident", "sw_ver", "sw_sys", "timestamp", "type"], json.Select(p => p.Key));
        Assert.Equal("5", json["freq"]!.ToJsonString());
    }

    [Fact]
    public async Task EnableAndDisableEvents_ToggleTaskEvents_AndSayWhenNothingChanged()
    {
        var disable = FabricControlHandlers.DisableEvents(dispatcher);
        var enable = FabricControlHandlers.EnableEvents(dispatcher);
        var request = new ControlRequest { Method = "x" };

        var first = await disable.HandleAsync(request, default);
        var second = await disable.HandleAsync(request, default);
        var offWhileDisabled = dispatcher.TaskEventsEnabled;
        var third = await enable.HandleAsync(request, default);
        var fourth = await enable.HandleAsync(request, default);

        Assert.Equal("task events disabled", (string)first.Value!["ok"]!);
        Assert.Equal("task events already disabled", (string)second.Value!["ok"]!);
        Assert.False(offWhileDisabled);
        Assert.Equal("task events enabled", (string)third.Value!["ok"]!);
        Assert.Equal("task events already enabled", (string)fourth.Value!["ok"]!);
        Assert.True(dispatcher.TaskEventsEnabled);
    }

    private async Task<ClusterEvent> NextAsync() => (await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "an event")).Event;
}
