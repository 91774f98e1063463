using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqlite;
using Microsoft.Data.Sqlite;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport;

/// <summary>What only the SQLite transport promises: a shared file, leases that run out, and failures reported to consumers.</summary>
public sealed class SqliteTransportTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cq-sqlite-").FullName;

    private string DatabasePath => Path.Combine(directory, "broker.db");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private ITransport Open(TimeSpan? visibilityTimeout = null) => TransportRegistry.CreateDefault().Open(new BrokerSettings
    {
        Url = $"sqlite:///{DatabasePath}",
        PollingInterval = TimeSpan.FromMilliseconds(50),
        VisibilityTimeout = visibilityTimeout ?? TimeSpan.FromSeconds(30),
    });

    [Fact]
    public async Task Topology_declared_by_one_connection_routes_for_another()
    {
        await using (var declarer = Open())
        {
            await declarer.DeclareExchangeAsync(new ExchangeDeclaration("events", ExchangeType.Topic));
            await declarer.DeclareQueueAsync(new QueueDeclaration("audit", Arguments: Map(("x-max-priority", 3))));
            await declarer.BindQueueAsync(new QueueBinding("audit", "events", "task.#"));
        }

        await using var publisher = Open();
        await using var consumerSide = Open();
        await publisher.PublishAsync("events", "task.succeeded", Message("ok", priority: 1));
        await publisher.PublishAsync("events", "task.failed", Message("urgent", priority: 9));
        await using var consumer = await consumerSide.ConsumeAsync("audit", new ConsumeOptions());

        Assert.Equal(["urgent", "ok"], (await consumer.NextAsync(2)).Select(d => d.Text()));
    }

    [Fact]
    public async Task A_lease_that_is_not_renewed_runs_out_and_the_message_is_delivered_again()
    {
        await using var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));
        await transport.PublishAsync("", "q", Message("orphan"));
        // A consumer that takes the message and then vanishes, as a killed process would.
        await using (var vanished = new SqliteMessageStore(DatabasePath))
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var taken = await vanished.TakeAsync("q", "vanished", 10, now, now + 300, remove: false, CancellationToken.None);
            Assert.Single(taken);
        }

        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions());
        var delivery = await consumer.NextAsync();

        Assert.Equal("orphan", delivery.Text());
        Assert.True(delivery.Redelivered);
    }

    [Fact]
    public async Task A_consumer_renews_its_leases_so_a_slow_task_is_not_handed_to_another_consumer()
    {
        // Renewal runs every third of the lease, so a loop delayed up to two seconds on a loaded machine still renews in time.
        await using var transport = Open(visibilityTimeout: TimeSpan.FromSeconds(3));
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));
        await transport.PublishAsync("", "q", Message("slow"));
        await using var holder = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        var held = await holder.NextAsync();

        // A second consumer polls for several lease lengths; the marker published after the held message shows it was looking.
        await using var other = await transport.ConsumeAsync("q", new ConsumeOptions(Prefetch: 1));
        var deadline = DateTimeOffset.UtcNow.AddSeconds(7);
        while (DateTimeOffset.UtcNow < deadline)
        {
            Assert.False(other.Deliveries.TryRead(out _), "a held, renewed message was delivered to another consumer");
            await Task.Delay(50);
        }

        await transport.PublishAsync("", "q", Message("marker"));
        Assert.Equal("marker", (await other.NextAsync()).Text());
        await holder.AckAsync(held);
    }

    [Fact]
    public async Task A_failing_store_completes_the_consumer_with_a_transport_exception()
    {
        await using var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));
        await using var consumer = await transport.ConsumeAsync("q", new ConsumeOptions());

        using (var vandal = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            vandal.Open();
            using var drop = vandal.CreateCommand();
            drop.CommandText = "DROP TABLE cq_messages";
            drop.ExecuteNonQuery();
        }

        var error = await consumer.CompletionAsync();

        var transportError = Assert.IsType<TransportException>(error);
        Assert.Contains("queue 'q'", transportError.Message, StringComparison.Ordinal);
        Assert.Contains("cq_messages", transportError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publishing_to_a_broken_store_is_a_transport_exception()
    {
        await using var transport = Open();
        await transport.DeclareQueueAsync(new QueueDeclaration("q"));
        using (var vandal = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            vandal.Open();
            using var drop = vandal.CreateCommand();
            drop.CommandText = "DROP TABLE cq_messages";
            drop.ExecuteNonQuery();
        }

        var error = await Assert.ThrowsAsync<TransportException>(async () => await transport.PublishAsync("", "q", Message("x")));

        Assert.Contains("publish failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_that_cannot_be_a_file_is_a_transport_exception_naming_it()
    {
        var blocked = Path.Combine(directory, "not-a-dir");
        File.WriteAllText(blocked, "");

        var error = Assert.Throws<TransportException>(() =>
            TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = $"sqlite:///{Path.Combine(blocked, "broker.db")}" }));

        Assert.Contains("not-a-dir", error.Message, StringComparison.Ordinal);
    }
}
