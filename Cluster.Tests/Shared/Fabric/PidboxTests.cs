using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Revocation;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

/// <summary>PidboxNode and PidboxClient talking over a private memory broker.</summary>
public sealed class PidboxTests : IAsyncLifetime
{
    private readonly ITransport transport = FabricTestKit.MemoryTransport();
    private readonly List<IAsyncDisposable> owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(owned)) await item.DisposeAsync();
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task Ping_ReplyCarriesNodeTicketAndMailboxClock()
    {
        await StartNodeAsync("celery@vm");
        var client = Client();

        var replies = await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        var reply = Assert.Single(replies);
        Assert.Equal("celery@vm", reply.Node);
        FabricFixtures.AssertJson(new JsonObject { ["ok"] = "pong" }, reply.Value);
        Assert.NotNull(reply.Ticket);

        // The client sent clock 1; the node adjusted to 2 and forwarded to 3 for the reply, as kombu does (fixture: 5 → 7).
        Assert.Equal(3, reply.Clock);
        Assert.Equal(4, client.MailboxClock.Value);
    }

    [Fact]
    public async Task Reply_OnTheWire_HasCelerysHeadersAndBody()
    {
        var topology = new PidboxTopology();
        await StartNodeAsync("celery@vm");
        await topology.DeclareExchangesAsync(transport, default);
        await transport.DeclareQueueAsync(topology.ReplyQueueDeclaration("oid-1"));
        await transport.BindQueueAsync(new QueueBinding(topology.ReplyQueue("oid-1"), topology.ReplyExchange, "oid-1"));
        await using var replies = await transport.ConsumeAsync(topology.ReplyQueue("oid-1"), new ConsumeOptions(NoAck: true));
        var request = new ControlRequest { Method = "ping", Ticket = "t-1", ReplyTo = new ReplyAddress(topology.ReplyExchange, "oid-1"), Clock = 5 };

        await transport.PublishAsync(topology.RequestExchange, "", ControlCodec.EncodeRequest(request));
        var delivery = await FabricTestKit.NextAsync(replies);

        Assert.Equal("""{"celery@vm": {"ok": "pong"}}""", FabricTestKit.Text(delivery.Message.Body));
        Assert.Equal("t-1", delivery.Message.Headers["ticket"]);
        Assert.Equal(7, delivery.Message.Headers["clock"]);
        Assert.Equal(1, delivery.Message.Properties.DeliveryMode);
        Assert.Equal("oid-1", delivery.RoutingKey);
    }

    [Fact]
    public async Task Broadcast_ToEveryNode_GathersAllRepliesUntilTheLimit()
    {
        await StartNodeAsync("a@h");
        await StartNodeAsync("b@h");
        await StartNodeAsync("c@h");

        var replies = await Client().PingAsync(timeout: FabricTestKit.Patience, limit: 3);

        Assert.Equal(["a@h", "b@h", "c@h"], replies.Select(r => r.Node).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Destination_OnlyNamedNodesAct_AndTheLimitIsTheirCount()
    {
        var a = await StartNodeAsync("a@h");
        var b = await StartNodeAsync("b@h");
        var client = Client();

        var replies = await client.PingAsync(ControlTarget.Nodes("b@h"), FabricTestKit.Patience);

        Assert.Equal("b@h", Assert.Single(replies).Node);

        // a@h received the request too (fanout) but ignored it; its next ping proves it had read the earlier one.
        await client.PingAsync(ControlTarget.Nodes("a@h"), FabricTestKit.Patience);
        Assert.Equal(1, a.HandledCount);
        Assert.Equal(1, b.HandledCount);
    }

    [Fact]
    public async Task Pattern_GlobAndPcre_SelectNodes()
    {
        await StartNodeAsync("worker1@h");
        await StartNodeAsync("worker2@h");
        await StartNodeAsync("beat@h");
        var client = Client();

        var glob = await client.PingAsync(new ControlTarget(Pattern: "worker*", Matcher: "glob"), FabricTestKit.Patience, limit: 2);
        var pcre = await client.PingAsync(new ControlTarget(Pattern: "beat", Matcher: "pcre"), FabricTestKit.Patience, limit: 1);

        Assert.Equal(["worker1@h", "worker2@h"], glob.Select(r => r.Node).Order(StringComparer.Ordinal));
        Assert.Equal("beat@h", Assert.Single(pcre).Node);
    }

    [Fact]
    public async Task UnknownMethod_RepliesKeyError_AndTheNodeKeepsRunning()
    {
        await StartNodeAsync("celery@vm");
        var client = Client();

        var replies = await client.BroadcastAsync("no_such_cmd", target: ControlTarget.Nodes("celery@vm"), timeout: FabricTestKit.Patience);
        var ping = await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        Assert.Equal("""{"error": "KeyError('no_such_cmd')"}""", FabricTestKit.Text(FabricJson.Serialize(Assert.Single(replies).Value)));
        Assert.Single(ping);
    }

    [Fact]
    public async Task HandlerException_RepliesItsRepr_AndTheNodeKeepsRunning()
    {
        var registry = new ControlHandlerRegistry([
            FabricControlHandlers.Ping(),
            new DelegateControlHandler("autoscale", (_, _) => throw ControlReplies.AutoscaleNotEnabled),
            new DelegateControlHandler("boom", (_, _) => throw new InvalidOperationException("it's broken")),
            new DelegateControlHandler("pool_grow", (request, _) => ValueTask.FromResult(PoolResizeArguments.Parse(request.Arguments).N > 0 ? ControlReplies.PoolWillGrow : ControlReplies.PoolWillShrink)),
        ]);
        await StartNodeAsync("celery@vm", registry);
        var client = Client();
        var target = ControlTarget.Nodes("celery@vm");

        var autoscale = await client.AutoscaleAsync(4, 1, target, timeout: FabricTestKit.Patience);
        var boom = await client.BroadcastAsync("boom", target: target, timeout: FabricTestKit.Patience);
        var badArgument = await client.BroadcastAsync("pool_grow", new JsonObject { ["n"] = "many" }, target, timeout: FabricTestKit.Patience);
        var ping = await client.PingAsync(target, FabricTestKit.Patience);

        Assert.Equal("ValueError('Autoscale not enabled')", (string)Assert.Single(autoscale).Value!["error"]!);
        Assert.Equal("InvalidOperationException(\"it's broken\")", (string)Assert.Single(boom).Value!["error"]!);
        Assert.Equal("ValueError('argument \\'n\\' must be an integer, not \"many\"')", (string)Assert.Single(badArgument).Value!["error"]!);
        Assert.Single(ping);
    }

    [Fact]
    public async Task NoTicket_NoReply_ButTheCommandRuns()
    {
        var revoked = new RevokedTaskSet();
        await StartNodeAsync("celery@vm", FabricControlHandlers.CreateRegistry("celery@vm", revoked, new LamportClock()));
        var client = Client();

        var replies = await client.RevokeAsync(["t-1"], reply: false);
        var ping = await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        Assert.Empty(replies);
        Assert.Single(ping);
        Assert.True(revoked.Contains("t-1"));
    }

    [Fact]
    public async Task Shutdown_SendsNoReply_SoTheCallerTimesOutEmpty()
    {
        var shutdowns = 0;
        var registry = new ControlHandlerRegistry([
            FabricControlHandlers.Ping(),
            new DelegateControlHandler("shutdown", (_, _) =>
            {
                Interlocked.Increment(ref shutdowns);
                return ValueTask.FromResult(ControlReplies.Shutdown);
            }),
        ]);
        await StartNodeAsync("celery@vm", registry);
        var client = Client();

        var replies = await client.CommandAsync("shutdown", ControlTarget.Nodes("celery@vm"), timeout: TimeSpan.FromMilliseconds(200));
        await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        Assert.Empty(replies);
        Assert.Equal(1, shutdowns);
    }

    [Fact]
    public async Task Timeout_EndsTheGatherWithTheRepliesThatArrived_BeforeTheLimit()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new ControlHandlerRegistry([
            new DelegateControlHandler("ping", async (_, cancellationToken) =>
            {
                await release.Task.WaitAsync(cancellationToken);
                return ControlReplies.Pong;
            }),
        ]);
        await StartNodeAsync("fast@h");
        await StartNodeAsync("slow@h", slow);
        var client = Client();

        // fast@h answers; slow@h holds its reply until after the gather, so only the timeout can end it.
        var first = await client.SendAsync("ping", target: ControlTarget.Nodes("fast@h", "slow@h"));
        var fast = await client.CollectAsync(first!, FabricTestKit.Patience, limit: 1);
        var rest = await client.CollectAsync(first!, TimeSpan.FromMilliseconds(200), limit: 1);
        // Collecting again before the reply is released: a reply to a gather that has ended is otherwise dropped as late.
        var lateCollect = client.CollectAsync(first!, FabricTestKit.Patience, limit: 1);
        release.SetResult();
        var late = await lateCollect;

        Assert.Equal("fast@h", Assert.Single(fast).Node);
        Assert.Empty(rest);
        Assert.Equal("slow@h", Assert.Single(late).Node);
    }

    [Fact]
    public async Task Timeout_WithNoNode_ReturnsNoReplies()
    {
        var replies = await Client().PingAsync(timeout: TimeSpan.FromMilliseconds(100));

        Assert.Empty(replies);
    }

    [Fact]
    public async Task RepliesWithOtherTickets_AreKeptForTheirOwnCollector()
    {
        await StartNodeAsync("a@h");
        await StartNodeAsync("b@h");
        var client = Client();

        var first = await client.SendAsync("ping", timeout: FabricTestKit.Patience);
        var second = await client.SendAsync("clock", timeout: FabricTestKit.Patience);

        // Collecting the second first: replies to the first arrive meanwhile and must wait for their collector.
        var secondReplies = await client.CollectAsync(second!, FabricTestKit.Patience, limit: 2);
        var firstReplies = await client.CollectAsync(first!, FabricTestKit.Patience, limit: 2);

        Assert.All(secondReplies, r => Assert.Equal(second, r.Ticket));
        Assert.All(firstReplies, r => Assert.Equal(first, r.Ticket));
        Assert.All(firstReplies, r => Assert.Equal("pong", (string)r.Value!["ok"]!));
        Assert.Equal(2, firstReplies.Count);
        Assert.Equal(2, secondReplies.Count);
    }

    [Fact]
    public async Task RepliesBeyondTheLimit_StayForTheNextCollectOfTheTicket()
    {
        await StartNodeAsync("a@h");
        await StartNodeAsync("b@h");
        var client = Client();
        var ticket = await client.SendAsync("ping");

        // The second collect waits for two replies, so both have arrived before the first takes one.
        var both = await client.CollectAsync((await client.SendAsync("ping"))!, FabricTestKit.Patience, limit: 2);
        var one = await client.CollectAsync(ticket!, FabricTestKit.Patience, limit: 1);
        var other = await client.CollectAsync(ticket!, FabricTestKit.Patience, limit: 1);

        Assert.Equal(2, both.Count);
        Assert.Equal(["a@h", "b@h"], one.Concat(other).Select(r => r.Node).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ConcurrentBroadcasts_FromOneClient_EachGetOnlyTheirReplies()
    {
        await StartNodeAsync("a@h");
        var client = Client();

        var calls = Enumerable.Range(0, 8).Select(_ => client.PingAsync(ControlTarget.Nodes("a@h"), FabricTestKit.Patience)).ToList();
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Single(r));
        Assert.Equal(8, results.Select(r => r[0].Ticket).Distinct().Count());
    }

    [Fact]
    public async Task MalformedRequest_IsDroppedAndCounted_AndTheNodeKeepsRunning()
    {
        var node = await StartNodeAsync("celery@vm");
        var topology = new PidboxTopology();

        await transport.PublishAsync(topology.RequestExchange, "", new Envelope { Body = "{\"method\": 42}"u8.ToArray() });
        await transport.PublishAsync(topology.RequestExchange, "", new Envelope { Body = "{\"method\": \"ping\", \"pattern\": \"x\", \"matcher\": \"nope\"}"u8.ToArray() });
        var ping = await Client().PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        Assert.Single(ping);
        Assert.Equal(2, node.MalformedCount);
    }

    [Fact]
    public async Task EveryRequestRead_ForwardsTheAppClock_EvenOneForAnotherNode()
    {
        var appClock = new LamportClock(100);
        var node = await StartNodeAsync("celery@vm", FabricControlHandlers.CreateRegistry("celery@vm", new RevokedTaskSet(), appClock), appClock);
        var client = Client();

        await client.PingAsync(ControlTarget.Nodes("celery@other"), reply: false);
        var reply = Assert.Single(await client.InspectAsync("clock", ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience));

        // 100 → 101 for the request meant elsewhere, → 102 for the clock request itself.
        Assert.Equal(102, (long)reply.Value!["clock"]!);

        // The mailbox clock is separate: requests at 1 and 2 give adjust → 2, adjust → 3, and forward → 4 for the reply.
        Assert.Equal(4, reply.Clock);
        Assert.Equal(4, node.MailboxClock.Value);
        Assert.Equal(1, node.HandledCount);
    }

    [Fact]
    public void Registry_RefusesTwoHandlersForOneName()
    {
        var registry = new ControlHandlerRegistry([FabricControlHandlers.Revoked(new RevokedTaskSet())]);

        var error = Assert.Throws<ArgumentException>(() => registry.Add(new DelegateControlHandler("dump_revoked", (_, _) => ValueTask.FromResult(ControlReplies.Pong))));

        Assert.Contains("'dump_revoked'", error.Message, StringComparison.Ordinal);
        Assert.True(registry.TryGet("dump_revoked", out var handler));
        Assert.Equal("revoked", handler.Method);
    }

    [Fact]
    public async Task Registry_GivesAHandlerCelerysAliasesForItsMethod()
    {
        var registry = new ControlHandlerRegistry([
            new DelegateControlHandler("active", (_, _) => ValueTask.FromResult(ControlResponse.Reply(new JsonArray()))),
            FabricControlHandlers.Ping(),
        ]);
        await StartNodeAsync("celery@vm", registry);

        var replies = await Client().BroadcastAsync("dump_active", target: ControlTarget.Nodes("celery@vm"), timeout: FabricTestKit.Patience);

        Assert.Equal("[]", Assert.Single(replies).Value!.ToJsonString());
        Assert.True(registry.TryGet("dump_active", out _));
        Assert.False(registry.TryGet("dump_ping", out _));
    }

    [Fact]
    public async Task EmptyDestinationList_MeansEveryNode_AndGathersUntilTheTimeout()
    {
        await StartNodeAsync("a@h");

        // No limit applies, so the gather runs to its timeout; the one reply arrives long before it.
        var replies = await Client().PingAsync(new ControlTarget(Destination: []), TimeSpan.FromSeconds(5));

        Assert.Equal("a@h", Assert.Single(replies).Node);
    }

    [Fact]
    public async Task Client_BadMatcher_FailsBeforeSending()
    {
        var client = Client();

        await Assert.ThrowsAsync<FabricMessageException>(() => client.PingAsync(new ControlTarget(Pattern: "x", Matcher: "sql")));
    }

    private PidboxClient Client()
    {
        var client = new PidboxClient(transport);
        owned.Add(client);
        return client;
    }

    private async Task<PidboxNode> StartNodeAsync(string name, ControlHandlerRegistry? handlers = null, LamportClock? appClock = null)
    {
        var node = new PidboxNode(transport, name, handlers ?? new ControlHandlerRegistry([FabricControlHandlers.Ping(), FabricControlHandlers.Clock(new LamportClock())]), appClock: appClock);
        owned.Add(node);
        await node.StartAsync();
        return node;
    }
}
