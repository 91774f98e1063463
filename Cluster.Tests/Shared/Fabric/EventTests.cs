using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

public class EventCodecTests
{
    public static TheoryData<string> CatalogEntries => new(FabricFixtures.Load("events-catalog.json")["events"]!.AsObject().Select(e => e.Key));

    [Theory]
    [MemberData(nameof(CatalogEntries))]
    public void CatalogEvent_DecodesToItsTypedRecord_AndEncodesToTheCapturedBytes(string entry)
    {
        var captured = FabricFixtures.Load("events-catalog.json")["events"]![entry]!;
        var rawBody = (string)captured["envelope_body_raw_utf8"]!;
        var envelope = captured["envelope"]!;
        var routingKey = (string)envelope["routing_key"]!;

        var decoded = Assert.Single(EventCodec.DecodeBody(System.Text.Encoding.UTF8.GetBytes(rawBody)));
        var encoded = routingKey == EventCodec.MultiRoutingKey ? EventCodec.EncodeBatch([decoded], decoded.Hostname) : EventCodec.Encode(decoded);

        Assert.IsNotType<OtherEvent>(decoded);
        Assert.Equal(rawBody, FabricTestKit.Text(encoded.Body));
        Assert.Equal((string)envelope["headers"]!["hostname"]!, encoded.Headers["hostname"]);
        Assert.Equal(1, encoded.Properties.DeliveryMode);
        Assert.Equal((byte)0, encoded.Properties.Priority);
        Assert.Equal(routingKey == EventCodec.MultiRoutingKey ? routingKey : EventCodec.RoutingKey(decoded.Type), routingKey);
    }

    [Fact]
    public void WorkerHeartbeat_ReadsEveryField()
    {
        var captured = FabricFixtures.Load("events-catalog.json")["events"]!["worker-heartbeat"]!["event"]!.AsObject();

        var heartbeat = Assert.IsType<WorkerEvent>(EventCodec.Decode(captured));

        Assert.Equal(WorkerEvent.Heartbeat, heartbeat.Type);
        Assert.Equal("celery@vm", heartbeat.Hostname);
        Assert.Equal(9443, heartbeat.Pid);
        Assert.Equal(3, heartbeat.Clock);
        Assert.Equal(2.0, heartbeat.Freq);
        Assert.Equal(0, heartbeat.Active);
        Assert.Equal([0.38, 0.38, 0.23], heartbeat.Loadavg);
        Assert.Equal(1795253731.0696366, heartbeat.Timestamp);
    }

    [Fact]
    public void ShortHeartbeat_WritesFreqAsAnInt_LikeTheHeartbeatCommandsAnswer()
    {
        var captured = FabricFixtures.Load("events-catalog.json")["events"]!["worker-heartbeat (reply to heartbeat control command)"]!;
        var evt = new WorkerEvent(WorkerEvent.Heartbeat)
        {
            Hostname = "celery@vm", Pid = 9443, Clock = 243, Freq = 5, Timestamp = 1795253878.6419888, SwIdent = "py-celery", SwVer = "5.2.6", SwSys = "Linux",
        };

        Assert.Equal((string)captured["envelope_body_raw_utf8"]!, FabricTestKit.Text(EventCodec.Encode(evt).Body));
    }

    [Fact]
    public void WorkerEvent_NamesThisImplementation_NotPythonCelery()
    {
        var evt = new WorkerEvent(WorkerEvent.Online);

        Assert.Equal("cluster-queue", evt.SwIdent);
        Assert.Matches("^[0-9]+\\.[0-9]+", evt.SwVer);
        Assert.Equal(OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsWindows() ? "Windows" : "Darwin", evt.SwSys);
    }

    [Theory]
    [InlineData("0.38 0.38 0.23 1/234 5678", 0.38, 0.38, 0.23)]
    [InlineData("0.371 0.3801 0.2 1/2 3", 0.38, 0.39, 0.2)]
    [InlineData("2.00 1.50 0.00 3/4 5", 2.0, 1.5, 0.0)]
    public void LoadAverage_IsRoundedUpToTwoDecimals(string line, double one, double five, double fifteen)
    {
        Assert.Equal([one, five, fifteen], SoftwareInfo.ParseLoadAverage(line));
    }

    [Fact]
    public void LoadAverage_OfThisMachine_HasThreeNonNegativeNumbers()
    {
        var load = SoftwareInfo.LoadAverage();

        Assert.Equal(3, load.Count);
        Assert.All(load, l => Assert.True(l >= 0));
    }

    [Fact]
    public void TaskFailed_WithoutTraceback_LeavesTheKeyOut()
    {
        var evt = new TaskFailedEvent("id", "NotRegistered('tasks.x')", null) { Hostname = "celery@vm" };

        Assert.DoesNotContain("traceback", FabricTestKit.Text(EventCodec.Encode(evt).Body), StringComparison.Ordinal);
    }

    [Fact]
    public void MultiBody_MixedTypes_AndTheEmptyList_AreRead()
    {
        var busy = FabricFixtures.Messages("inspect-active-reserved-busy.json");
        var mixed = busy.First(m => m.Role == "event batch (task-received, task-received)");
        var empty = busy.First(m => m.Role == "event batch (empty list)");

        var events = EventCodec.DecodeBody(System.Text.Encoding.UTF8.GetBytes(mixed.RawBody));

        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.IsType<TaskReceivedEvent>(e));
        Assert.Equal(["eaf90648-a5e4-4c1e-bdda-7b91fc2d87d1", "a1839c33-b0ae-4e1e-8011-2ffdd9687243"], events.Cast<TaskEvent>().Select(e => e.Uuid));
        Assert.Empty(EventCodec.DecodeBody(System.Text.Encoding.UTF8.GetBytes(empty.RawBody)));
    }

    [Fact]
    public void UnknownType_IsKeptWithItsFields()
    {
        var json = JsonNode.Parse("""{"hostname": "h", "utcoffset": 0, "pid": 1, "clock": 2, "id": "x", "topic": "t", "timestamp": 1.5, "type": "worker-elect"}""")!.AsObject();

        var evt = Assert.IsType<OtherEvent>(EventCodec.Decode(json));

        Assert.Equal("worker.elect", EventCodec.RoutingKey(evt.Type));
        Assert.Equal(json.ToJsonString(), evt.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("worker-online", "worker.online")]
    [InlineData("task-succeeded", "task.succeeded")]
    [InlineData("worker-elect-ack", "worker.elect.ack")]
    public void RoutingKey_ReplacesDashesWithDots(string type, string key) => Assert.Equal(key, EventCodec.RoutingKey(type));

    [Theory]
    [InlineData("""{"hostname": "h", "timestamp": 1}""", "'type'")]
    [InlineData("""{"type": "task-started", "hostname": "h"}""", "'uuid'")]
    [InlineData("""{"type": "task-started", "uuid": "u"}""", "'hostname'")]
    [InlineData("""{"type": "worker-online", "hostname": "h", "freq": "fast"}""", "'freq'")]
    [InlineData("""{"type": "task-revoked", "hostname": "h", "uuid": "u", "terminated": "yes"}""", "'terminated'")]
    [InlineData("""{"type": "worker-heartbeat", "hostname": "h", "loadavg": ["x"]}""", "'loadavg'")]
    [InlineData("""[1]""", "item 0")]
    [InlineData("""42""", "object or a list")]
    public void Malformed_IsATypedErrorNamingTheField(string body, string named)
    {
        var error = Assert.Throws<FabricMessageException>(() => EventCodec.DecodeBody(System.Text.Encoding.UTF8.GetBytes(body)));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 0, -1)]
    [InlineData(2, 0, -2)]
    [InlineData(-5, 0, 5)]
    [InlineData(5, 30, -6)]
    [InlineData(-3, -30, 3)]
    [InlineData(5, 45, -6)]
    [InlineData(14, 0, -14)]
    public void UtcOffset_IsInvertedAndFloored(int hours, int minutes, int expected)
    {
        Assert.Equal(expected, CeleryUtcOffset.FromOffset(new TimeSpan(hours, minutes, 0)));
    }

    [Fact]
    public void UtcOffset_UsesTheZonesOffsetAtThatTime_DaylightSavingIncluded()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("test", TimeSpan.FromHours(1), "test", "test", "test-dst",
            [TimeZoneInfo.AdjustmentRule.CreateAdjustmentRule(DateTime.MinValue.Date, DateTime.MaxValue.Date, TimeSpan.FromHours(1),
                TimeZoneInfo.TransitionTime.CreateFixedDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 31),
                TimeZoneInfo.TransitionTime.CreateFixedDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 31))]);

        Assert.Equal(-1, CeleryUtcOffset.For(zone, new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(-2, CeleryUtcOffset.For(zone, new DateTimeOffset(2026, 7, 15, 12, 0, 0, TimeSpan.Zero)));
    }
}

public class LamportClockTests
{
    [Fact]
    public void Forward_AddsOne()
    {
        var clock = new LamportClock();

        Assert.Equal(1, clock.Forward());
        Assert.Equal(2, clock.Forward());
        Assert.Equal(2, clock.Value);
    }

    [Theory]
    [InlineData(5, 3, 6)]
    [InlineData(5, 9, 10)]
    [InlineData(5, 5, 6)]
    [InlineData(0, 0, 1)]
    public void Adjust_TakesTheMaxPlusOne(long local, long other, long expected)
    {
        var clock = new LamportClock(local);

        Assert.Equal(expected, clock.Adjust(other));
        Assert.Equal(expected, clock.Value);
    }

    [Fact]
    public async Task ConcurrentForwards_LoseNoTick()
    {
        var clock = new LamportClock();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                if (i % 2 == 0) clock.Forward();
                else clock.Adjust(0);
            }
        })));

        Assert.Equal(40_000, clock.Value);
    }

    [Fact]
    public void ALoneWorkersOwnHeartbeats_SeenByItsGossip_GoOneThreeFive()
    {
        // Celery's worker forwards for each event it sends and adjusts when its gossip consumer sees it come back.
        var clock = new LamportClock();
        var seen = new List<long>();

        for (var i = 0; i < 3; i++)
        {
            var sent = clock.Forward();
            seen.Add(sent);
            clock.Adjust(sent);
        }

        Assert.Equal([1, 3, 5], seen);
    }
}

/// <summary>EventDispatcher and EventReceiver over a private memory broker.</summary>
public sealed class EventBusTests : IAsyncLifetime
{
    private readonly ITransport transport = FabricTestKit.MemoryTransport();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await transport.DisposeAsync();

    [Fact]
    public async Task Receiver_DeclaresCelerysEventQueue()
    {
        await using var receiver = new EventReceiver(transport);
        await receiver.StartAsync();

        var declaration = receiver.QueueDeclaration;

        Assert.StartsWith("celeryev.", receiver.QueueName, StringComparison.Ordinal);
        Assert.True(Guid.TryParse(receiver.QueueName["celeryev.".Length..], out _));
        Assert.False(declaration.Durable);
        Assert.True(declaration.AutoDelete);
        Assert.Equal(5000, declaration.Arguments!["x-message-ttl"]);
        Assert.Equal(60000, declaration.Arguments["x-expires"]);
        Assert.Contains("[{\"x-expires\",60000},{\"x-message-ttl\",5000}]", File.ReadAllText(FabricFixtures.PathOf("broker-topology.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerEvent_TravelsSingly_StampedWithTheForwardedClock()
    {
        var time = new FabricClock(FabricFixtures.Epoch, TimeZoneInfo.CreateCustomTimeZone("plus1", TimeSpan.FromHours(1), "plus1", "plus1"));
        var clock = new LamportClock(10);
        await using var raw = await RawEventQueueAsync("worker.#");
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", clock, options: new EventDispatcherOptions { Pid = 77 }, time: time);
        await dispatcher.StartAsync();

        var sent = await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Online) { Active = 0, Processed = 0, Loadavg = [0.1, 0.2, 0.3] });
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Equal("worker.online", delivery.RoutingKey);
        Assert.Equal("celery@vm", delivery.Message.Headers["hostname"]);
        Assert.Equal(1, delivery.Message.Properties.DeliveryMode);
        var body = JsonNode.Parse(delivery.Message.Body.Span)!;
        Assert.Equal(11, (long)body["clock"]!);
        Assert.Equal(-1, (int)body["utcoffset"]!);
        Assert.Equal(77, (int)body["pid"]!);
        Assert.Equal(FabricFixtures.Epoch.ToUnixTimeSeconds(), (double)body["timestamp"]!);
        Assert.Equal("worker-online", (string)body["type"]!);
        Assert.Equal(11, sent!.Clock);
    }

    [Fact]
    public async Task TaskEvents_WhenBatching_TravelAsOneTaskMultiList()
    {
        await using var raw = await RawEventQueueAsync("#");
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock(), options: new EventDispatcherOptions { BatchTaskEvents = true, FlushInterval = TimeSpan.Zero });
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new TaskReceivedEvent("t1", "tasks.add", "(2, 2)", "{}"));
        await dispatcher.SendAsync(new TaskStartedEvent("t1"));
        await dispatcher.SendAsync(new TaskSucceededEvent("t1", "4", 0.01));
        await dispatcher.FlushAsync();
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Equal("task.multi", delivery.RoutingKey);
        var list = JsonNode.Parse(delivery.Message.Body.Span)!.AsArray();
        Assert.Equal(["task-received", "task-started", "task-succeeded"], list.Select(e => (string)e!["type"]!));
        Assert.Equal([1L, 2L, 3L], list.Select(e => (long)e!["clock"]!));
    }

    [Fact]
    public async Task TaskEvents_Batch_IsSentWhenFull()
    {
        await using var raw = await RawEventQueueAsync("task.multi");
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock(), options: new EventDispatcherOptions { BatchTaskEvents = true, MaxBatchSize = 2, FlushInterval = TimeSpan.Zero });
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new TaskStartedEvent("a"));
        await dispatcher.SendAsync(new TaskStartedEvent("b"));
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Equal(2, JsonNode.Parse(delivery.Message.Body.Span)!.AsArray().Count);
    }

    [Fact]
    public async Task TaskEvents_Batch_IsSentByThePeriodicFlush()
    {
        await using var raw = await RawEventQueueAsync("task.multi");
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock(), options: new EventDispatcherOptions { BatchTaskEvents = true, FlushInterval = TimeSpan.FromMilliseconds(20) });
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new TaskStartedEvent("a"));
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Single(JsonNode.Parse(delivery.Message.Body.Span)!.AsArray());
    }

    [Fact]
    public async Task TaskSent_FromAClient_TravelsSinglyEvenWhenBatching()
    {
        await using var raw = await RawEventQueueAsync("#");
        await using var dispatcher = new EventDispatcher(transport, "gen1@vm", new LamportClock(), options: new EventDispatcherOptions { BatchTaskEvents = true, FlushInterval = TimeSpan.Zero });
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new TaskSentEvent("t1", "tasks.add", "(3,)", "{'y': 4}", Queue: "celery", Exchange: "", RoutingKey: "celery"));
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Equal("task.sent", delivery.RoutingKey);
        Assert.IsType<JsonObject>(JsonNode.Parse(delivery.Message.Body.Span));
    }

    [Fact]
    public async Task TaskEventsDisabled_DropsTaskEvents_ButNotWorkerEvents()
    {
        await using var raw = await RawEventQueueAsync("#");
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock());
        await dispatcher.StartAsync();
        dispatcher.TaskEventsEnabled = false;

        var dropped = await dispatcher.SendAsync(new TaskStartedEvent("a"));
        await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Heartbeat));
        var delivery = await FabricTestKit.NextAsync(raw);

        Assert.Null(dropped);
        Assert.Equal("worker.heartbeat", delivery.RoutingKey);
    }

    [Fact]
    public async Task Receiver_AcceptsSingleEventsAndTaskMultiLists_InOrder_AndAdjustsItsClock()
    {
        var receiverClock = new LamportClock();
        await using var receiver = new EventReceiver(transport, clock: receiverClock);
        await receiver.StartAsync();
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock(40), options: new EventDispatcherOptions { BatchTaskEvents = true, FlushInterval = TimeSpan.Zero });
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Online));
        await dispatcher.SendAsync(new TaskReceivedEvent("t1", "tasks.add", "(1, 1)", "{}"));
        await dispatcher.SendAsync(new TaskSucceededEvent("t1", "2", 0.5));
        await dispatcher.FlushAsync();
        var received = new List<ReceivedEvent>();
        for (var i = 0; i < 3; i++) received.Add(await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "an event"));

        Assert.Equal(["worker-online", "task-received", "task-succeeded"], received.Select(r => r.Event.Type));
        Assert.Equal("2", Assert.IsType<TaskSucceededEvent>(received[2].Event).Result);
        Assert.Equal(44, receiverClock.Value);
    }

    [Fact]
    public async Task Receiver_BindingKey_FiltersEvents()
    {
        await using var receiver = new EventReceiver(transport, "worker.#");
        await receiver.StartAsync();
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock());
        await dispatcher.StartAsync();

        await dispatcher.SendAsync(new TaskStartedEvent("t1"));
        await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Heartbeat));
        var first = await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "an event");

        Assert.Equal(WorkerEvent.Heartbeat, first.Event.Type);
    }

    [Fact]
    public async Task Receiver_DoesNotTrustAClientsTaskSentClock()
    {
        var receiverClock = new LamportClock(3);
        await using var receiver = new EventReceiver(transport, clock: receiverClock);
        await receiver.StartAsync();
        await using var client = new EventDispatcher(transport, "gen1@vm", new LamportClock(1000));
        await client.StartAsync();

        await client.SendAsync(new TaskSentEvent("t1", "tasks.add", "()", "{}"));
        var received = await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "an event");

        Assert.Equal(1001, received.Event.Clock);
        Assert.Equal(3, receiverClock.Value);
    }

    [Fact]
    public async Task Receiver_MalformedMessage_IsCountedAndSkipped()
    {
        await using var receiver = new EventReceiver(transport);
        await receiver.StartAsync();
        await using var dispatcher = new EventDispatcher(transport, "celery@vm", new LamportClock());
        await dispatcher.StartAsync();

        await transport.PublishAsync("celeryev", "task.multi", new Envelope { Body = "[{\"type\": 1}]"u8.ToArray() });
        await transport.PublishAsync("celeryev", "worker.online", new Envelope { Body = "not json"u8.ToArray() });
        await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Online));
        var received = await FabricTestKit.Within(receiver.Events.ReadAsync().AsTask(), "an event");

        Assert.Equal(WorkerEvent.Online, received.Event.Type);
        Assert.Equal(2, receiver.MalformedCount);
    }

    private async Task<IQueueConsumer> RawEventQueueAsync(string bindingKey)
    {
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("celeryev", ExchangeType.Topic));
        var queue = "raw-" + Guid.NewGuid();
        await transport.DeclareQueueAsync(new QueueDeclaration(queue, Durable: false, AutoDelete: true));
        await transport.BindQueueAsync(new QueueBinding(queue, "celeryev", bindingKey));
        return await transport.ConsumeAsync(queue, new ConsumeOptions(NoAck: true));
    }
}
