using System.Text;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;
using RabbitMQ.Client;
using ExchangeType = ClusterQueue.Transport.ExchangeType;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport.Amqp;

/// <summary>What only RabbitMQ shows: Celery's topology, wire types, confirms, the delay ladder, and connection loss.</summary>
[Trait("Server", AmqpTestBroker.Trait)]
public sealed class AmqpTransportTests : IAsyncLifetime
{
    private readonly string vhost = AmqpTestBroker.NewVhost();
    private readonly List<IAsyncDisposable> opened = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(opened))
        {
            await item.DisposeAsync();
        }
    }

    [Fact]
    public async Task Celery_shaped_declares_pass_against_what_the_transport_declared()
    {
        // Options that change declarations apply to shared durable queues only; Celery's own queues must match exactly.
        var transport = Open(new AmqpSettings { ConfirmPublish = true });
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("celery", ExchangeType.Direct));
        await transport.DeclareQueueAsync(new QueueDeclaration("celery"));
        await transport.BindQueueAsync(new QueueBinding("celery", "celery", "celery"));
        await transport.DeclareQueueAsync(new QueueDeclaration("9926f65a-ead6-3806-b724-5ccf38b68a5f", Durable: false, AutoDelete: true,
            Arguments: Map(("x-expires", 86400000L))));
        await transport.DeclareQueueAsync(new QueueDeclaration("celeryev.1de0f977", Durable: false, AutoDelete: true,
            Arguments: Map(("x-message-ttl", 5000), ("x-expires", 60000))));
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("celery.pidbox", ExchangeType.Fanout, Durable: false));

        var channel = await RawChannelAsync();
        await channel.ExchangeDeclareAsync("celery", "direct", durable: true, autoDelete: false);
        await channel.QueueDeclareAsync("celery", durable: true, exclusive: false, autoDelete: false, arguments: null);
        await channel.QueueBindAsync("celery", "celery", "celery");
        await channel.QueueDeclareAsync("9926f65a-ead6-3806-b724-5ccf38b68a5f", durable: false, exclusive: false, autoDelete: true,
            arguments: new Dictionary<string, object?> { ["x-expires"] = 86400000 });
        await channel.QueueDeclareAsync("celeryev.1de0f977", durable: false, exclusive: false, autoDelete: true,
            arguments: new Dictionary<string, object?> { ["x-message-ttl"] = 5000, ["x-expires"] = 60000 });
        await channel.ExchangeDeclareAsync("celery.pidbox", "fanout", durable: false, autoDelete: false);

        Assert.True(channel.IsOpen, "a Celery-shaped declare was refused");
    }

    [Fact]
    public async Task Max_priority_option_applies_to_shared_durable_queues_and_leaves_reply_queues_as_celery_declares_them()
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = true, MaxPriority = 10 });
        await transport.DeclareQueueAsync(new QueueDeclaration("tasks"));
        await transport.DeclareQueueAsync(new QueueDeclaration("replies", Durable: false, AutoDelete: true, Arguments: Map(("x-expires", 60000))));

        var channel = await RawChannelAsync();
        await channel.QueueDeclareAsync("tasks", durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-max-priority"] = 10 });
        await channel.QueueDeclareAsync("replies", durable: false, exclusive: false, autoDelete: true,
            arguments: new Dictionary<string, object?> { ["x-expires"] = 60000 });
        var plain = await RawChannelAsync();
        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            plain.QueueDeclareAsync("tasks", durable: true, exclusive: false, autoDelete: false, arguments: null));

        Assert.Contains("x-max-priority", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headers_travel_as_the_types_python_reads_and_incoming_strings_timestamps_and_decimals_are_converted()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("types"));
        await transport.PublishAsync("", "types", Message("x", headers: Map(
            ("int", 7), ("small-long", 5L), ("big-long", 1L << 40), ("double", 2.5), ("flag", true), ("none", null),
            ("text", "héllo"), ("list", new List<object?> { 1L, "two" }), ("map", Map(("nested", 3L))))));
        var channel = await RawChannelAsync();

        var raw = await channel.BasicGetAsync("types", autoAck: true);

        var headers = raw!.BasicProperties.Headers!;
        Assert.IsType<int>(headers["int"]);
        Assert.IsType<int>(headers["small-long"]);
        Assert.Equal(1L << 40, Assert.IsType<long>(headers["big-long"]));
        Assert.IsType<double>(headers["double"]);
        Assert.IsType<bool>(headers["flag"]);
        Assert.Null(headers["none"]);
        Assert.Equal("héllo", Encoding.UTF8.GetString(Assert.IsType<byte[]>(headers["text"])));
        Assert.IsType<int>(Assert.IsAssignableFrom<IList<object?>>(headers["list"])[0]);
        Assert.IsType<int>(Assert.IsAssignableFrom<IDictionary<string, object?>>(headers["map"])["nested"]);
        Assert.Equal(9, headers.Count);
        Assert.Equal(DeliveryModes.Persistent, raw.BasicProperties.DeliveryMode);

        var properties = new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                ["text"] = Encoding.UTF8.GetBytes("é"),
                ["when"] = new AmqpTimestamp(1_795_253_738),
                ["amount"] = 1.5m,
                ["items"] = new List<object?> { Encoding.UTF8.GetBytes("a") },
            },
        };
        await channel.BasicPublishAsync("", "types", mandatory: false, properties, Encoding.UTF8.GetBytes("y"));
        await using var consumer = await transport.ConsumeAsync("types", new ConsumeOptions(NoAck: true));
        var received = (await consumer.NextAsync()).Message.Headers;

        Assert.Equal("é", received["text"]);
        Assert.Equal(1_795_253_738L, received["when"]);
        Assert.Equal(1.5, received["amount"]);
        Assert.Equal(["a"], Assert.IsAssignableFrom<IEnumerable<object?>>(received["items"]));
    }

    [Fact]
    public async Task A_negative_64_bit_header_is_refused_because_python_would_read_it_unsigned()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));

        var error = await Assert.ThrowsAsync<PreconditionFailedException>(async () =>
            await transport.PublishAsync("", "q", Message("x", headers: Map(("offset", -(1L << 40))))));

        Assert.Contains("header offset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_publisher_confirms_every_published_message_is_in_the_queue_when_publish_returns()
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = true });
        await transport.DeclareQueueAsync(new QueueDeclaration("confirmed"));

        for (var i = 0; i < 50; i++)
        {
            await transport.PublishAsync("", "confirmed", Message($"m{i}"));
        }

        Assert.Equal(50L, await transport.MessageCountAsync("confirmed"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_publishers_on_one_transport_lose_and_garble_nothing(bool confirm)
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = confirm });
        await transport.DeclareQueueAsync(new QueueDeclaration("shared"));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await transport.PublishAsync("", "shared", Message($"p{p}-m{i}", headers: Map(("publisher", p), ("index", i))));
            }
        })));
        await using var consumer = await transport.ConsumeAsync("shared", new ConsumeOptions(NoAck: true));
        var received = await consumer.NextAsync(400);

        Assert.All(received, d => Assert.Equal($"p{d.Message.Headers["publisher"]}-m{d.Message.Headers["index"]}", d.Text()));
        Assert.Equal(400, received.Select(d => d.Text()).Distinct().Count());
        foreach (var publisher in received.GroupBy(d => d.Message.Headers["publisher"]))
        {
            Assert.Equal(Enumerable.Range(0, 50), publisher.Select(d => (int)d.Message.Headers["index"]!));
        }
    }

    [Fact]
    public async Task Without_publisher_confirms_messages_still_arrive_in_order()
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = false });
        await transport.DeclareQueueAsync(new QueueDeclaration("fast"));
        for (var i = 0; i < 5; i++)
        {
            await transport.PublishAsync("", "fast", Message($"m{i}"));
        }

        await using var consumer = await transport.ConsumeAsync("fast", new ConsumeOptions(NoAck: true));

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"m{i}"), (await consumer.NextAsync(5)).Select(d => d.Text()));
    }

    [Fact]
    public async Task Delayed_messages_wait_in_the_delay_queues_not_in_a_consumer_and_a_short_delay_overtakes_a_long_one()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("eta"));
        await using var consumer = await transport.ConsumeAsync("eta", new ConsumeOptions(Prefetch: 1));
        var longDue = DateTimeOffset.UtcNow.AddSeconds(4);
        var shortDue = DateTimeOffset.UtcNow.AddSeconds(2);

        await transport.PublishAsync("", "eta", Message("long", expiration: "600000"), new PublishOptions { NotBefore = longDue });
        await transport.PublishAsync("", "eta", Message("short"), new PublishOptions { NotBefore = shortDue });
        var waiting = await LadderCountAsync(transport);
        var heldEarly = consumer.TryReadNow(out _);
        var first = await consumer.NextAsync();
        var firstAt = DateTimeOffset.UtcNow;
        await consumer.AckAsync(first);
        var second = await consumer.NextAsync();
        var secondAt = DateTimeOffset.UtcNow;

        Assert.Equal(2L, waiting);
        Assert.False(heldEarly, "a delayed message reached the consumer before its time");
        Assert.Equal("short", first.Text());
        Assert.True(firstAt >= shortDue, "the short delay was delivered early");
        Assert.Equal("long", second.Text());
        Assert.True(secondAt >= longDue, "the long delay was delivered early");
        Assert.Equal(("", "eta"), (second.Exchange, second.RoutingKey));
        Assert.False(second.Message.Headers.ContainsKey("x-death"), "the delay queues' x-death entries reached the consumer");
        Assert.False(second.Message.Headers.ContainsKey("x-first-death-queue"));
    }

    [Fact]
    public async Task A_delay_beyond_the_ladder_is_refused_with_the_limit()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("eta"));

        var error = await Assert.ThrowsAsync<PreconditionFailedException>(async () =>
            await transport.PublishAsync("", "eta", Message("x"), new PublishOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(30) }));

        Assert.Contains("24.9 days", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_closed_by_the_broker_faults_the_consumer_then_the_transport_reconnects_and_the_unacked_message_comes_back()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("work"));
        await transport.PublishAsync("", "work", Message("held"));
        var consumer = await transport.ConsumeAsync("work", new ConsumeOptions(Prefetch: 1));
        opened.Add(consumer);
        var held = await consumer.NextAsync();

        await AmqpTestBroker.RabbitMqCtlAsync("close_all_connections", "--vhost", vhost, "connection loss test");
        var fault = await consumer.CompletionAsync();
        var again = await RetryWhileReconnectingAsync(() => transport.ConsumeAsync("work", new ConsumeOptions(Prefetch: 1)).AsTask());
        opened.Add(again);
        var redelivered = await again.NextAsync();
        await again.AckAsync(redelivered);
        await transport.PublishAsync("", "work", Message("after"));

        Assert.False(held.Redelivered);
        Assert.Contains("lost its channel", Assert.IsAssignableFrom<TransportException>(fault).Message, StringComparison.Ordinal);
        Assert.Equal("held", redelivered.Text());
        Assert.True(redelivered.Redelivered);
        Assert.Equal("after", (await again.NextAsync()).Text());
        Assert.Equal(2, transport.ConnectionsOpened);
    }

    [Fact]
    public async Task Publishing_while_the_broker_is_unreachable_fails_with_a_transport_error_and_backs_off()
    {
        var port = FreeLoopbackPort();
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings
        {
            Url = $"amqp://guest:secret@127.0.0.1:{port}/",
            ConnectionTimeout = TimeSpan.FromSeconds(5),
        });

        var first = await Assert.ThrowsAsync<TransportException>(async () => await transport.PublishAsync("", "q", Message("x")));
        var second = await Assert.ThrowsAsync<TransportException>(async () => await transport.PublishAsync("", "q", Message("x")));

        Assert.Contains($"127.0.0.1:{port}", first.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", first.Message, StringComparison.Ordinal);
        Assert.Contains("next attempt", second.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_with_a_reason_from_a_queue_without_dead_letter_exchange_goes_to_the_configured_one()
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = true, DeadLetterExchange = "cq.poison" });
        await transport.DeclareQueueAsync(new QueueDeclaration("celery"));
        await transport.PublishAsync("", "celery", Message("poison", headers: Map(("task", "tasks.unknown"))));
        await using var consumer = await transport.ConsumeAsync("celery", new ConsumeOptions(Prefetch: 1));

        await consumer.RejectAsync(await consumer.NextAsync(), requeue: false, reason: "unknown task tasks.unknown");
        await using var dead = await transport.ConsumeAsync("cq.poison", new ConsumeOptions(NoAck: true));
        var delivery = await dead.NextAsync();

        Assert.Equal("poison", delivery.Text());
        Assert.Equal("unknown task tasks.unknown", delivery.Message.Headers[DeadLetter.ReasonHeader]);
        var death = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(
            Assert.Single(Assert.IsAssignableFrom<IEnumerable<object?>>(delivery.Message.Headers["x-death"])));
        Assert.Equal("celery", death["queue"]);
        Assert.Equal(0L, await transport.MessageCountAsync("celery"));
    }

    [Fact]
    public async Task Raising_the_prefetch_of_a_running_consumer_lets_one_more_unacked_delivery_through()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        for (var i = 0; i < 3; i++)
        {
            await transport.PublishAsync("", "q", Message($"m{i}"));
        }

        var first = await consumer.NextAsync();
        await consumer.SetPrefetchAsync(2);
        var second = await consumer.NextAsync();

        Assert.Equal(["m0", "m1"], new[] { first.Text(), second.Text() });
        Assert.Equal(1L, await transport.MessageCountAsync("q"));
    }

    [Fact]
    public async Task Quorum_option_declares_quorum_queues_whose_consumers_take_a_new_prefetch_by_resubscribing()
    {
        var transport = Open(new AmqpSettings { ConfirmPublish = true, QuorumQueues = true, MaxPriority = 5 });
        await transport.DeclareQueueAsync(new QueueDeclaration("quorum"));
        await using var consumer = await transport.ConsumeAsync("quorum", new ConsumeOptions(Prefetch: 1));
        for (var i = 0; i < 3; i++)
        {
            await transport.PublishAsync("", "quorum", Message($"m{i}"));
        }

        var first = await consumer.NextAsync();
        await consumer.SetPrefetchAsync(2);
        var second = await consumer.NextAsync();
        await consumer.AckAsync(first);
        await consumer.AckAsync(second);
        var channel = await RawChannelAsync();
        await channel.QueueDeclareAsync("quorum", durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });

        Assert.Equal(["m0", "m1"], new[] { first.Text(), second.Text() });
        Assert.Equal("m2", (await consumer.NextAsync()).Text());
    }

    [Fact]
    public async Task Deleting_a_consumed_queue_faults_its_consumer()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("doomed"));
        var consumer = await transport.ConsumeAsync("doomed", new ConsumeOptions());
        opened.Add(consumer);

        await transport.DeleteQueueAsync("doomed");

        Assert.IsAssignableFrom<TransportException>(await consumer.CompletionAsync());
    }

    [Theory]
    [InlineData("amqp://guest:guest@localhost:5672/a/b", "one vhost")]
    [InlineData("amqp://guest:guest@local host:5672/", "not a valid URL")]
    public void Bad_urls_fail_naming_the_problem(string url, string problem)
    {
        var error = Assert.Throws<BrokerUrlException>(() => TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = url }));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_settings_that_cannot_be_used_fail_naming_the_setting()
    {
        var missingKey = new AmqpSettings { Tls = new AmqpTlsSettings { CertFile = "client.pem" } };
        var missingFile = new AmqpSettings { Tls = new AmqpTlsSettings { CaFile = "/nonexistent/ca.pem" } };

        var noKey = Assert.Throws<BrokerUrlException>(() => TransportRegistry.CreateDefault().Open(
            new BrokerSettings { Url = "amqps://guest:guest@localhost/", Amqp = missingKey }));
        var noCa = Assert.Throws<BrokerUrlException>(() => TransportRegistry.CreateDefault().Open(
            new BrokerSettings { Url = "amqps://guest:guest@localhost/", Amqp = missingFile }));

        Assert.Contains("tls.key-file", noKey.Message, StringComparison.Ordinal);
        Assert.Contains("tls.ca-file '/nonexistent/ca.pem'", noCa.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_max_priority_outside_rabbitmqs_range_fails_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TransportRegistry.CreateDefault().Open(
            new BrokerSettings { Url = "amqp://guest:guest@localhost/", Amqp = new AmqpSettings { MaxPriority = 300 } }));

        Assert.Equal("cluster-queue.broker.amqp.max-priority", error.ParamName);
    }

    private AmqpTransport Open(AmqpSettings? amqp = null)
    {
        var transport = AmqpTestBroker.Open(vhost, amqp);
        opened.Add(transport);
        return transport;
    }

    private async Task<IChannel> RawChannelAsync()
    {
        var factory = new ConnectionFactory { Uri = new Uri(AmqpTestBroker.UrlOf(vhost)) };
        var connection = await factory.CreateConnectionAsync();
        opened.Add(connection);
        var channel = await connection.CreateChannelAsync();
        opened.Add(channel);
        return channel;
    }

    private static async Task<long> LadderCountAsync(AmqpTransport transport)
    {
        long total = 0;
        for (var k = 0; k < AmqpDelayLadder.Levels; k++)
        {
            total += await transport.MessageCountAsync(AmqpDelayLadder.Level(k));
        }

        return total;
    }

    private static async Task<T> RetryWhileReconnectingAsync<T>(Func<Task<T>> operation)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await operation();
            }
            catch (TransportException) when (DateTime.UtcNow < deadline)
            {
                // The transport refuses at once while its reconnect backoff runs.
                await Task.Delay(50);
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
