using System.Diagnostics;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport.Sqs;

/// <summary>What SQS needs beyond the shared queue semantics: visibility kept while a message is held, long delays in steps, dead-letter queues.</summary>
[Trait("Server", SqsTestServer.Trait)]
public sealed class SqsTransportTests : IAsyncLifetime
{
    private readonly string prefix = SqsTestServer.NewPrefix();
    private readonly List<ITransport> opened = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var transport in opened)
        {
            await transport.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_message_held_for_three_visibility_timeouts_is_not_redelivered_because_its_visibility_is_extended()
    {
        var holder = Open(s => s with { VisibilityTimeout = TimeSpan.FromSeconds(2) });
        var other = Open(s => s with { VisibilityTimeout = TimeSpan.FromSeconds(2) });
        await holder.DeclareQueueAsync(new QueueDeclaration("long"));
        await holder.PublishAsync("", "long", Message("slow task"));
        await using var first = await holder.ConsumeAsync("long", new ConsumeOptions(Prefetch: 1));
        var held = await first.NextAsync();
        await using var second = await other.ConsumeAsync("long", new ConsumeOptions(Prefetch: 1));

        // The "task" runs for three visibility timeouts; without extension SQS would hand it to the second consumer.
        var stolen = second.Deliveries.ReadAsync().AsTask();
        var winner = await Task.WhenAny(stolen, Task.Delay(TimeSpan.FromSeconds(6)));
        await first.AckAsync(held);

        Assert.NotSame(stolen, winner);
        Assert.Equal("slow task", held.Text());
        Assert.Equal(0L, await holder.PurgeQueueAsync("long"));
    }

    [Fact]
    public async Task A_delay_beyond_the_longest_step_is_reached_in_steps_and_delivered_once_at_its_time()
    {
        // 900 s scaled down to 2 s: a 9 s delay takes four sends on after the first, as a 75-minute ETA would at 900 s.
        var transport = Open(s => s with { MaxDelay = TimeSpan.FromSeconds(2), VisibilityTimeout = TimeSpan.FromSeconds(1) });
        await transport.DeclareQueueAsync(new QueueDeclaration("later"));
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(9);
        await transport.PublishAsync("", "later", Message("at nine"), new PublishOptions { NotBefore = notBefore });
        await using var consumer = await transport.ConsumeAsync("later", new ConsumeOptions());

        var delivery = await consumer.NextAsync();
        var arrived = DateTimeOffset.UtcNow;
        await consumer.AckAsync(delivery);

        Assert.Equal("at nine", delivery.Text());
        Assert.True(arrived >= notBefore, $"delivered at {arrived:O}, before its time {notBefore:O}");
        Assert.True(transport.RedelayedCount >= 4, $"sent on {transport.RedelayedCount} times; a 9 s delay in 2 s steps needs at least 4");
        Assert.False(delivery.Redelivered);
        Assert.Equal(0L, await transport.PurgeQueueAsync("later"));
    }

    [Fact]
    public async Task A_killed_consumers_messages_come_back_after_the_visibility_timeout()
    {
        var transport = Open(s => s with { VisibilityTimeout = TimeSpan.FromSeconds(2) });
        await transport.DeclareQueueAsync(new QueueDeclaration("lost"));
        await transport.PublishAsync("", "lost", Message("in flight"));

        // A receive that nobody settles or extends, as a killed worker leaves it.
        using var raw = SqsTestServer.RawClient();
        var url = (await raw.GetQueueUrlAsync(SqsTransport.QueueName(prefix, "lost"))).QueueUrl;
        var taken = await raw.ReceiveMessageAsync(new Amazon.SQS.Model.ReceiveMessageRequest { QueueUrl = url, VisibilityTimeout = 2 });
        Assert.Single(taken.Messages);
        var clock = Stopwatch.StartNew();
        await using var consumer = await transport.ConsumeAsync("lost", new ConsumeOptions());

        var again = await consumer.NextAsync();

        Assert.Equal("in flight", again.Text());
        Assert.True(again.Redelivered);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"came back after {clock.Elapsed}, before the visibility timeout");
        await consumer.AckAsync(again);
    }

    [Fact]
    public async Task Queues_are_created_with_kombus_names_under_the_prefix_and_a_redrive_policy_when_asked()
    {
        var transport = Open(s => s with { MaxReceiveCount = 3 });
        await transport.DeclareQueueAsync(new QueueDeclaration("video.encode"));

        using var raw = SqsTestServer.RawClient();
        var url = (await raw.GetQueueUrlAsync(prefix + "video-encode")).QueueUrl;
        var dlq = (await raw.GetQueueUrlAsync(prefix + "video-encode-dlq")).QueueUrl;
        var attributes = await raw.GetQueueAttributesAsync(url, ["RedrivePolicy", "VisibilityTimeout"]);
        var dlqArn = (await raw.GetQueueAttributesAsync(dlq, ["QueueArn"])).Attributes["QueueArn"];

        Assert.Equal("10", attributes.Attributes["VisibilityTimeout"]);
        Assert.Contains(dlqArn, attributes.Attributes["RedrivePolicy"], StringComparison.Ordinal);
        Assert.Contains("\"maxReceiveCount\":\"3\"", attributes.Attributes["RedrivePolicy"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_that_is_not_kombus_payload_is_delivered_as_it_came_for_the_worker_to_dead_letter()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("raw"));
        using var raw = SqsTestServer.RawClient();
        var url = (await raw.GetQueueUrlAsync(prefix + "raw")).QueueUrl;
        await raw.SendMessageAsync(url, "not json at all");
        await using var consumer = await transport.ConsumeAsync("raw", new ConsumeOptions());

        var delivery = await consumer.NextAsync();

        Assert.Equal("not json at all", delivery.Text());
        Assert.Equal("application/octet-stream", delivery.Message.Properties.ContentType);
        Assert.Empty(delivery.Message.Headers);
        await consumer.AckAsync(delivery);
    }

    [Fact]
    public async Task Publishing_batches_requests_and_a_drain_costs_well_under_one_request_per_message()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("many"));
        const int count = 200;
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => transport.PublishAsync("", "many", Message($"m{i}")).AsTask()));
        await using var consumer = await transport.ConsumeAsync("many", new ConsumeOptions(Prefetch: 50));
        var before = transport.RequestCount;
        var received = new HashSet<string>();
        var acks = new List<Task>();
        while (received.Count < count)
        {
            var delivery = await consumer.NextAsync();
            received.Add(delivery.Text());
            acks.Add(consumer.AckAsync(delivery).AsTask());
        }

        await Task.WhenAll(acks);
        var perMessage = (transport.RequestCount - before) / (double)count;
        Assert.Equal(count, received.Count);
        Assert.True(perMessage < 0.5, $"{perMessage:0.00} requests per message; batches of ten should cost about 0.2");
    }

    [Fact]
    public async Task Large_messages_published_together_are_split_into_batches_that_sqs_accepts()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("big"));
        // About 107 KiB each once kombu's payload and SQS's body are base64: ten of them are four times what one batch may carry.
        var bodies = Enumerable.Range(0, 10).Select(i => new string((char)('a' + i), 60_000)).ToList();

        await Task.WhenAll(bodies.Select(body => transport.PublishAsync("", "big", Message(body)).AsTask()));
        await using var consumer = await transport.ConsumeAsync("big", new ConsumeOptions());
        var received = await consumer.NextAsync(10);

        Assert.Equal(bodies.Order(), received.Select(d => d.Text()).Order());
    }

    [Fact]
    public async Task A_queue_deleted_behind_the_transports_back_is_created_again_when_declared()
    {
        var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("gone"));
        using var raw = SqsTestServer.RawClient();
        await raw.DeleteQueueAsync((await raw.GetQueueUrlAsync(prefix + "gone")).QueueUrl);

        await Assert.ThrowsAsync<TransportException>(async () => await transport.PurgeQueueAsync("gone"));
        await transport.DeclareQueueAsync(new QueueDeclaration("gone"));
        await transport.PublishAsync("", "gone", Message("back"));
        await using var consumer = await transport.ConsumeAsync("gone", new ConsumeOptions());

        Assert.Equal("back", (await consumer.NextAsync()).Text());
    }

    private SqsTransport Open(Func<SqsSettings, SqsSettings>? change = null)
    {
        var transport = SqsTestServer.Open(prefix, change);
        opened.Add(transport);
        return transport;
    }
}
