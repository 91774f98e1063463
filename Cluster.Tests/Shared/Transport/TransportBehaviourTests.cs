using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Routing;
using ClusterQueue.Transport.Virtual;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport;

/// <summary>The queue semantics every transport shares, written once and run against each transport by a subclass.</summary>
public abstract class TransportBehaviourTests : IAsyncLifetime
{
    private readonly List<ITransport> opened = [];

    protected static BrokerSettings Settings(string url) => new()
    {
        Url = url,
        PollingInterval = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Opens a fresh broker of the transport under test; each call in one test reaches the same broker.</summary>
    protected abstract ITransport OpenTransport();

    /// <summary>Messages the transport dropped as unroutable.</summary>
    protected virtual long UnroutableCount(ITransport transport) => ((VirtualTransport)transport).UnroutableCount;

    /// <summary>Messages rejected without requeue or expired on a queue without a dead-letter exchange, and so dropped.</summary>
    protected virtual long DroppedDeadLetterCount(ITransport transport) => ((VirtualTransport)transport).DroppedDeadLetterCount;

    /// <summary>Waits until the transport has dropped one expired message of a queue without a dead-letter exchange.</summary>
    protected virtual Task ExpiredMessageDroppedAsync(ITransport transport, string queue) =>
        EventuallyAsync(() => DroppedDeadLetterCount(transport) == 1, "dropping the expired message");

    /// <summary>Whether a message the broker expires carries <see cref="DeadLetter.ReasonHeader"/> (RabbitMQ's own dead-lettering cannot add it).</summary>
    protected virtual bool ExpiryAddsReasonHeader => true;

    /// <summary>Whether a per-message expiration takes effect behind an unexpired head (RabbitMQ expires only at the head).</summary>
    protected virtual bool ExpiresBehindTheHead => true;

    /// <summary>Whether a delayed message waits in its target queue, where a purge counts it (RabbitMQ keeps it in delay queues).</summary>
    protected virtual bool DelayedMessagesWaitInTheirQueue => true;

    /// <summary>Whether the broker orders by <c>x-max-priority</c> priorities (SQS has none).</summary>
    protected virtual bool HasPriorities => true;

    /// <summary>
    /// Whatever must run for the transport to expire messages of a queue. Brokers expire on their own; SQS has no
    /// per-message TTL, so its transport expires a message when it receives it, and this starts a consumer.
    /// </summary>
    protected virtual Task<IAsyncDisposable> ExpiryWatchAsync(ITransport transport, string queue) =>
        Task.FromResult<IAsyncDisposable>(new NothingToStop());

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var transport in opened)
        {
            await transport.DisposeAsync();
        }
    }

    private ITransport Open()
    {
        var transport = OpenTransport();
        opened.Add(transport);
        return transport;
    }

    private static async Task<ITransport> WithQueueAsync(ITransport transport, string queue, IReadOnlyDictionary<string, object?>? arguments = null)
    {
        await transport.DeclareQueueAsync(new QueueDeclaration(queue, Arguments: arguments));
        return transport;
    }

    [Fact]
    public async Task Publish_to_default_exchange_delivers_body_properties_and_typed_headers_unchanged()
    {
        var transport = await WithQueueAsync(Open(), "q");
        var headers = Map(
            ("task", "tasks.add"), ("int", 7), ("long", 1L << 40), ("double", 2.5), ("flag", true), ("none", null),
            ("list", new List<object?> { 1, "two", null }),
            ("map", Map(("nested", 3L))));
        var sent = Message("payload", headers: headers) with
        {
            Properties = MessageProperties.Json with { CorrelationId = "id-1", ReplyTo = "replies", MessageId = "m-1", DeliveryMode = 1 },
        };
        await transport.PublishAsync("", "q", sent);
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions());

        var delivery = await consumer.NextAsync();

        Assert.Equal("payload", delivery.Text());
        Assert.Equal(sent.Properties, delivery.Message.Properties);
        Assert.Equal("", delivery.Exchange);
        Assert.Equal("q", delivery.RoutingKey);
        Assert.False(delivery.Redelivered);
        Assert.Equal(7, Assert.IsType<int>(delivery.Message.Headers["int"]));
        Assert.Equal(1L << 40, Assert.IsType<long>(delivery.Message.Headers["long"]));
        Assert.Equal(2.5, Assert.IsType<double>(delivery.Message.Headers["double"]));
        Assert.Equal(true, delivery.Message.Headers["flag"]);
        Assert.Null(delivery.Message.Headers["none"]);
        Assert.Equal(new object?[] { 1, "two", null }, Assert.IsAssignableFrom<IEnumerable<object?>>(delivery.Message.Headers["list"]));
        var map = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(delivery.Message.Headers["map"]);
        Assert.True(FieldValues.AreEqual(3L, map["nested"]), $"nested map value {map["nested"]} is not 3");
    }

    [Fact]
    public async Task Higher_priority_is_delivered_first_and_equal_priorities_keep_publish_order()
    {
        var transport = await WithQueueAsync(Open(), "prio", Map(("x-max-priority", 9)));
        var sent = new (string Body, byte Priority)[] { ("low-a", 1), ("mid-a", 5), ("top", 9), ("mid-b", 5), ("zero", 0), ("low-b", 1) };
        foreach (var (body, priority) in sent)
        {
            await transport.PublishAsync("", "prio", Message(body, priority));
        }

        await using var consumer = await transport.ConsumeAsync("prio", new ConsumeOptions());
        var order = (await consumer.NextAsync(sent.Length)).Select(d => d.Text()).ToList();

        if (HasPriorities)
        {
            Assert.Equal(["top", "mid-a", "mid-b", "low-a", "low-b", "zero"], order);
        }
        else
        {
            Assert.Equal(sent.Select(m => m.Body).Order(), order.Order());
        }
    }

    [Fact]
    public async Task Queue_without_max_priority_ignores_message_priority()
    {
        var transport = await WithQueueAsync(Open(), "plain");
        await transport.PublishAsync("", "plain", Message("first", 0));
        await transport.PublishAsync("", "plain", Message("second", 9));
        await using var consumer = await transport.ConsumeAsync("plain", new ConsumeOptions());

        Assert.Equal(["first", "second"], (await consumer.NextAsync(2)).Select(d => d.Text()));
    }

    [Fact]
    public async Task Delayed_message_stays_invisible_until_its_time_while_later_immediate_ones_pass_it()
    {
        var transport = await WithQueueAsync(Open(), "eta");
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(1.5);
        await transport.PublishAsync("", "eta", Message("later"), new PublishOptions { NotBefore = notBefore });
        await transport.PublishAsync("", "eta", Message("now"));
        await using var consumer = await transport.ConsumeAsync("eta", new ConsumeOptions());

        var first = await consumer.NextAsync();
        var second = await consumer.NextAsync();

        Assert.Equal("now", first.Text());
        Assert.Equal("later", second.Text());
        Assert.True(DateTimeOffset.UtcNow >= notBefore, "the delayed message was delivered before its time");
    }

    [Fact]
    public async Task Queue_ttl_dead_letters_an_unconsumed_message_with_reason_expired_and_x_death()
    {
        var transport = Open();
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("dlx", ExchangeType.Direct));
        await transport.DeclareQueueAsync(new QueueDeclaration("dead"));
        await transport.BindQueueAsync(new QueueBinding("dead", "dlx", "dead-key"));
        await transport.DeclareQueueAsync(new QueueDeclaration("short-lived", Arguments: Map(
            ("x-message-ttl", 100), ("x-dead-letter-exchange", "dlx"), ("x-dead-letter-routing-key", "dead-key"))));
        await using var dead = await transport.ConsumeAsync("dead", new ConsumeOptions());

        await transport.PublishAsync("", "short-lived", Message("stale"));
        Delivery delivery;
        await using (await ExpiryWatchAsync(transport, "short-lived"))
        {
            delivery = await dead.NextAsync();
        }

        Assert.Equal("stale", delivery.Text());
        if (ExpiryAddsReasonHeader)
        {
            Assert.Equal("expired", delivery.Message.Headers[DeadLetter.ReasonHeader]);
        }

        var death = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(
            Assert.Single(Assert.IsAssignableFrom<IEnumerable<object?>>(delivery.Message.Headers["x-death"])));
        Assert.Equal("short-lived", death["queue"]);
        Assert.Equal("expired", death["reason"]);
        Assert.Equal(0L, await transport.PurgeQueueAsync("short-lived"));
    }

    [Fact]
    public async Task Message_expiration_dead_letters_it_and_the_copy_loses_its_expiration()
    {
        var transport = Open();
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("dlx", ExchangeType.Fanout));
        await transport.DeclareQueueAsync(new QueueDeclaration("dead"));
        await transport.BindQueueAsync(new QueueBinding("dead", "dlx", ""));
        await transport.DeclareQueueAsync(new QueueDeclaration("work", Arguments: Map(("x-dead-letter-exchange", "dlx"))));
        await using var dead = await transport.ConsumeAsync("dead", new ConsumeOptions());

        if (ExpiresBehindTheHead)
        {
            await transport.PublishAsync("", "work", Message("keeps", expiration: null));
            await transport.PublishAsync("", "work", Message("expires", expiration: "50"));
        }
        else
        {
            await transport.PublishAsync("", "work", Message("expires", expiration: "50"));
            await transport.PublishAsync("", "work", Message("keeps", expiration: null));
        }

        Delivery delivery;
        await using (await ExpiryWatchAsync(transport, "work"))
        {
            delivery = await dead.NextAsync();
        }

        Assert.Equal("expires", delivery.Text());
        if (ExpiryAddsReasonHeader)
        {
            Assert.Equal("expired", delivery.Message.Headers[DeadLetter.ReasonHeader]);
        }

        Assert.Null(delivery.Message.Properties.Expiration);
        Assert.Equal(1L, await transport.PurgeQueueAsync("work"));
    }

    [Fact]
    public async Task Expired_message_without_dead_letter_exchange_is_dropped()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("ttl", Arguments: Map(("x-message-ttl", 50))));
        await transport.PublishAsync("", "ttl", Message("gone"));

        await ExpiredMessageDroppedAsync(transport, "ttl");

        Assert.Equal(0L, await transport.PurgeQueueAsync("ttl"));
    }

    [Fact]
    public async Task Reject_without_requeue_dead_letters_with_the_given_reason()
    {
        var transport = Open();
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("dlx", ExchangeType.Direct));
        await transport.DeclareQueueAsync(new QueueDeclaration("dead"));
        await transport.BindQueueAsync(new QueueBinding("dead", "dlx", "tasks"));
        await transport.DeclareQueueAsync(new QueueDeclaration("tasks", Arguments: Map(("x-dead-letter-exchange", "dlx"))));
        await transport.PublishAsync("", "tasks", Message("poison", headers: Map(("task", "tasks.unknown"))));
        await using var consumer = await transport.ConsumeAsync("tasks", new ConsumeOptions(Prefetch: 1));
        await using var dead = await transport.ConsumeAsync("dead", new ConsumeOptions());

        await consumer.RejectAsync(await consumer.NextAsync(), requeue: false, reason: "unknown task tasks.unknown");
        var delivery = await dead.NextAsync();

        Assert.Equal("poison", delivery.Text());
        Assert.Equal("tasks.unknown", delivery.Message.Headers["task"]);
        Assert.Equal("unknown task tasks.unknown", delivery.Message.Headers[DeadLetter.ReasonHeader]);
        var death = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(
            Assert.Single(Assert.IsAssignableFrom<IEnumerable<object?>>(delivery.Message.Headers["x-death"])));
        Assert.Equal("rejected", death["reason"]);
        Assert.Equal("tasks", death["queue"]);
        Assert.Equal(0L, await transport.PurgeQueueAsync("tasks"));
    }

    [Fact]
    public async Task Reject_without_requeue_and_without_dead_letter_exchange_drops_the_message()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await transport.PublishAsync("", "q", Message("drop me"));
        await transport.PublishAsync("", "q", Message("keep me"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));

        await consumer.RejectAsync(await consumer.NextAsync(), requeue: false);
        var next = await consumer.NextAsync();

        Assert.Equal("keep me", next.Text());
        Assert.False(next.Redelivered);
        Assert.Equal(1, DroppedDeadLetterCount(transport));
    }

    [Fact]
    public async Task Reject_with_requeue_delivers_again_marked_redelivered()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await transport.PublishAsync("", "q", Message("again"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));

        var first = await consumer.NextAsync();
        await consumer.RejectAsync(first, requeue: true);
        var second = await consumer.NextAsync();

        Assert.False(first.Redelivered);
        Assert.True(second.Redelivered);
        Assert.Equal("again", second.Text());
        await consumer.AckAsync(second);
        Assert.Equal(0L, await transport.PurgeQueueAsync("q"));
    }

    [Fact]
    public async Task Disposing_a_consumer_returns_its_unacked_messages_to_the_queue()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await transport.PublishAsync("", "q", Message("held"));
        var first = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        Assert.False((await first.NextAsync()).Redelivered);

        await first.DisposeAsync();
        await using var second = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        var again = await second.NextAsync();

        Assert.Equal("held", again.Text());
        Assert.True(again.Redelivered);
        Assert.Null(await first.CompletionAsync());
    }

    [Fact]
    public async Task Purge_removes_ready_and_delayed_messages_and_returns_the_count_but_keeps_unacked_ones()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await transport.PublishAsync("", "q", Message("held"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        var held = await consumer.NextAsync();
        for (var i = 0; i < 3; i++)
        {
            await transport.PublishAsync("", "q", Message($"ready-{i}"));
        }

        await transport.PublishAsync("", "q", Message("delayed"), new PublishOptions { NotBefore = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.Equal(DelayedMessagesWaitInTheirQueue ? 4L : 3L, await transport.PurgeQueueAsync("q"));
        Assert.Equal(0L, await transport.PurgeQueueAsync("q"));
        await consumer.AckAsync(held);
    }

    [Fact]
    public async Task Prefetch_bounds_the_unacked_deliveries_of_a_consumer()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await using var bounded = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 2));
        for (var i = 0; i < 5; i++)
        {
            await transport.PublishAsync("", "q", Message($"m{i}"));
        }

        var held = await bounded.NextAsync(2);
        // Whatever the bounded consumer did not take is still there for another one.
        await using var unbounded = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 0));
        var rest = await unbounded.NextAsync(3);

        Assert.False(bounded.Deliveries.TryRead(out _));
        Assert.Equal(
            Enumerable.Range(0, 5).Select(i => $"m{i}"),
            held.Concat(rest).Select(d => d.Text()).Order());
    }

    [Fact]
    public async Task Acking_opens_the_prefetch_window_for_the_next_message()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        for (var i = 0; i < 3; i++)
        {
            await transport.PublishAsync("", "q", Message($"m{i}"));
        }

        var received = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var delivery = await consumer.NextAsync();
            Assert.False(consumer.Deliveries.TryRead(out _));
            received.Add(delivery.Text());
            await consumer.AckAsync(delivery);
        }

        Assert.Equal(["m0", "m1", "m2"], received);
    }

    [Fact]
    public async Task Competing_consumers_share_the_messages_and_each_is_delivered_once()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await using var a = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        await using var b = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        const int count = 40;
        for (var i = 0; i < count; i++)
        {
            await transport.PublishAsync("", "q", Message($"m{i}"));
        }

        // Neither acks its first message until both have one, so neither can drain the queue alone.
        var aHasOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bHasOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new System.Collections.Concurrent.ConcurrentBag<string>();
        var remaining = count;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<int> Drain(IQueueConsumer consumer, TaskCompletionSource mine, TaskCompletionSource other)
        {
            var taken = 0;
            while (!done.Task.IsCompleted)
            {
                var next = consumer.NextAsync();
                if (await Task.WhenAny(next, done.Task) != next)
                {
                    break;
                }

                var delivery = await next;
                taken++;
                received.Add(delivery.Text());
                mine.TrySetResult();
                await other.Task.WaitAsync(Patience);
                await consumer.AckAsync(delivery);
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    done.TrySetResult();
                }
            }

            return taken;
        }

        var takenByA = Drain(a, aHasOne, bHasOne);
        var takenByB = Drain(b, bHasOne, aHasOne);
        await done.Task.WaitAsync(Patience);

        Assert.True(await takenByA > 0);
        Assert.True(await takenByB > 0);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"m{i}").Order(), received.Order());
    }

    [Fact]
    public async Task No_ack_consumer_removes_messages_as_it_receives_them()
    {
        var transport = await WithQueueAsync(Open(), "q");
        await transport.PublishAsync("", "q", Message("once"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(NoAck: true));

        Assert.Equal("once", (await consumer.NextAsync()).Text());
        Assert.Equal(0L, await transport.PurgeQueueAsync("q"));
    }

    [Fact]
    public async Task Fanout_topic_and_headers_exchanges_route_copies_to_every_matching_queue()
    {
        var transport = Open();
        foreach (var queue in new[] { "all-1", "all-2", "eu", "any-eu", "headers" })
        {
            await transport.DeclareQueueAsync(new QueueDeclaration(queue));
        }

        await transport.DeclareExchangeAsync(new ExchangeDeclaration("broadcast", ExchangeType.Fanout));
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("events", ExchangeType.Topic));
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("match", ExchangeType.Headers));
        await transport.BindQueueAsync(new QueueBinding("all-1", "broadcast", ""));
        await transport.BindQueueAsync(new QueueBinding("all-2", "broadcast", "ignored"));
        await transport.BindQueueAsync(new QueueBinding("eu", "events", "orders.eu.*"));
        await transport.BindQueueAsync(new QueueBinding("any-eu", "events", "#.eu.#"));
        await transport.BindQueueAsync(new QueueBinding("headers", "match", "", Map(("x-match", "all"), ("format", "pdf"))));

        await transport.PublishAsync("broadcast", "whatever", Message("fan"));
        await transport.PublishAsync("events", "orders.eu.paid", Message("paid"));
        await transport.PublishAsync("events", "eu", Message("bare"));
        await transport.PublishAsync("match", "", Message("doc", headers: Map(("format", "pdf"), ("size", 3))));
        await transport.PublishAsync("match", "", Message("img", headers: Map(("format", "png"))));

        Assert.Equal(1L, await transport.PurgeQueueAsync("all-1"));
        Assert.Equal(1L, await transport.PurgeQueueAsync("all-2"));
        Assert.Equal(1L, await transport.PurgeQueueAsync("eu"));
        Assert.Equal(2L, await transport.PurgeQueueAsync("any-eu"));
        await using var headers = await transport.ConsumeAsync("headers", new ConsumeOptions());
        Assert.Equal("doc", (await headers.NextAsync()).Text());
        Assert.Equal(0L, await transport.PurgeQueueAsync("headers"));
    }

    [Fact]
    public async Task Unroutable_message_is_dropped_and_counted()
    {
        var transport = Open();
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("direct", ExchangeType.Direct));

        await transport.PublishAsync("direct", "nobody", Message("lost"));
        await transport.PublishAsync("", "no-such-queue", Message("lost too"));

        Assert.Equal(2, UnroutableCount(transport));
    }

    [Fact]
    public async Task Bad_requests_fail_with_typed_errors_and_the_transport_keeps_serving()
    {
        var transport = await WithQueueAsync(Open(), "q");

        var noQueue = await Assert.ThrowsAsync<QueueNotFoundException>(async () => await transport.ConsumeAsync("missing", new ConsumeOptions()));
        var noExchange = await Assert.ThrowsAsync<ExchangeNotFoundException>(async () => await transport.PublishAsync("nowhere", "q", Message("x")));
        var badExpiration = await Assert.ThrowsAsync<PreconditionFailedException>(async () => await transport.PublishAsync("", "q", Message("x", expiration: "soon")));
        var badHeader = await Assert.ThrowsAsync<PreconditionFailedException>(async () =>
            await transport.PublishAsync("", "q", Message("x", headers: Map(("when", DateTime.UnixEpoch)))));
        var badArgument = await Assert.ThrowsAsync<PreconditionFailedException>(async () =>
            await transport.DeclareQueueAsync(new QueueDeclaration("bad", Arguments: Map(("x-message-ttl", "ten")))));
        var unboundQueue = await Assert.ThrowsAsync<QueueNotFoundException>(async () =>
            await transport.BindQueueAsync(new QueueBinding("missing", "amq.direct", "k")));

        Assert.Contains("'missing'", noQueue.Message, StringComparison.Ordinal);
        Assert.Contains("'nowhere'", noExchange.Message, StringComparison.Ordinal);
        Assert.Contains("expiration", badExpiration.Message, StringComparison.Ordinal);
        Assert.Contains("header when", badHeader.Message, StringComparison.Ordinal);
        Assert.Contains("x-message-ttl", badArgument.Message, StringComparison.Ordinal);
        Assert.Equal("missing", unboundQueue.Queue);

        await transport.PublishAsync("", "q", Message("still fine"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions());
        var delivery = await consumer.NextAsync();
        Assert.Equal("still fine", delivery.Text());
        await consumer.AckAsync(delivery);
        var doubleAck = await Assert.ThrowsAsync<PreconditionFailedException>(async () => await consumer.AckAsync(delivery));
        Assert.Contains("unknown delivery tag", doubleAck.Message, StringComparison.Ordinal);
    }

    private sealed class NothingToStop : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Redeclaring_an_exchange_with_another_type_is_refused()
    {
        var transport = Open();
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("x", ExchangeType.Direct));
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("x", ExchangeType.Direct));

        var error = await Assert.ThrowsAsync<PreconditionFailedException>(async () =>
            await transport.DeclareExchangeAsync(new ExchangeDeclaration("x", ExchangeType.Topic)));

        Assert.Contains("direct", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>The shared queue semantics on <c>memory://</c>.</summary>
public sealed class MemoryTransportBehaviourTests : TransportBehaviourTests
{
    private readonly string name = "behaviour-" + Guid.NewGuid().ToString("N");

    protected override ITransport OpenTransport() => TransportRegistry.CreateDefault().Open(Settings($"memory://{name}"));
}

/// <summary>The shared queue semantics on <c>sqlite:///</c>.</summary>
public sealed class SqliteTransportBehaviourTests : TransportBehaviourTests
{
    private readonly string directory = Directory.CreateTempSubdirectory("cq-transport-").FullName;

    protected override ITransport OpenTransport() =>
        TransportRegistry.CreateDefault().Open(Settings($"sqlite:///{Path.Combine(directory, "broker.db")}"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}
