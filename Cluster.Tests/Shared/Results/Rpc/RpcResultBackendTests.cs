using System.Text;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Results.Rpc;
using ClusterQueue.Tests.Transport.Amqp;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;
using RabbitMQ.Client;

namespace ClusterQueue.Tests.Results.Rpc;

/// <summary>The rpc backend's client and worker sides over one broker, written once and run on each transport.</summary>
public abstract class RpcResultBackendTests : IAsyncLifetime
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<IAsyncDisposable> opened = [];

    protected static ResultSettings Settings { get; } = new() { Backend = "rpc://" };

    /// <summary>A new connection to this test's broker; every call reaches the same broker.</summary>
    protected abstract ITransport OpenTransport();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(opened))
        {
            await item.DisposeAsync();
        }
    }

    protected T Track<T>(T item) where T : IAsyncDisposable
    {
        opened.Add(item);
        return item;
    }

    /// <summary>A client backend and a worker backend, each on its own connection as in two processes.</summary>
    protected (RpcResultBackend Client, RpcResultBackend Worker) OpenPair()
    {
        var client = Track(new RpcResultBackend(Track(OpenTransport()), Settings));
        var worker = Track(new RpcResultBackend(Track(OpenTransport()), Settings));
        return (client, worker);
    }

    /// <summary>Starts the client listening and returns its reply queue.</summary>
    protected static async Task<string> ListenAsync(RpcResultBackend client) =>
        await client.ReplyQueueAsync() ?? throw new InvalidOperationException("the rpc backend named no reply queue");

    [Fact]
    public async Task A_result_the_worker_stores_reaches_the_client_waiting_on_it()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        var waiting = client.WaitAsync("task-1", Patience);

        await worker.StoreAsync(TaskResult.Succeeded("task-1", 4) with { ReplyTo = replyTo });
        var result = await waiting;

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(4, result.Result!.GetValue<int>());
        Assert.Equal(client.ReplyQueue, replyTo);
    }

    [Fact]
    public async Task The_result_message_is_celerys_rpc_body_with_its_properties()
    {
        var (_, worker) = OpenPair();
        var transport = Track(OpenTransport());
        await transport.DeclareQueueAsync(new QueueDeclaration("inspect-replies", Durable: false, AutoDelete: true));
        await using var consumer = await transport.ConsumeAsync("inspect-replies", new ConsumeOptions(NoAck: true));

        await worker.StoreAsync(TaskResult.Succeeded("5e44", new JsonArray(1, "two")) with { ReplyTo = "inspect-replies", CorrelationId = "corr-9" });
        using var timeout = new CancellationTokenSource(Patience);
        var delivery = await consumer.Deliveries.ReadAsync(timeout.Token);

        Assert.Equal("""{"task_id":"5e44","status":"SUCCESS","result":[1,"two"],"traceback":null,"children":[]}""",
            Encoding.UTF8.GetString(delivery.Message.Body.Span));
        Assert.Equal(("", "inspect-replies"), (delivery.Exchange, delivery.RoutingKey));
        var properties = delivery.Message.Properties;
        Assert.Equal(("application/json", "utf-8"), (properties.ContentType, properties.ContentEncoding));
        Assert.Equal((byte)1, properties.DeliveryMode);
        Assert.Equal((byte)0, properties.Priority);
        Assert.Equal("corr-9", properties.CorrelationId);
        Assert.Null(properties.ReplyTo);
        Assert.Empty(delivery.Message.Headers);
    }

    [Fact]
    public async Task GetMany_collects_several_results_in_the_order_asked_whatever_order_they_arrive_in()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        var ids = new[] { "a", "b", "c" };
        var collecting = client.GetManyAsync(ids, Patience);

        foreach (var id in ids.Reverse())
        {
            await worker.StoreAsync(TaskResult.Succeeded(id, id.ToUpperInvariant()) with { ReplyTo = replyTo });
        }

        var results = await collecting;

        Assert.Equal(["A", "B", "C"], results.Select(r => r.Result!.GetValue<string>()));
    }

    [Fact]
    public async Task Results_for_tasks_nobody_waits_on_yet_are_buffered_and_a_late_started_does_not_undo_success()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        await worker.StoreAsync(TaskResult.Succeeded("early", "kept") with { ReplyTo = replyTo });
        await worker.StoreAsync(TaskResult.Started("early", 9447, "celery@vm") with { ReplyTo = replyTo });
        await worker.StoreAsync(TaskResult.Succeeded("waited", 1) with { ReplyTo = replyTo });

        // Results arrive in publish order, so once the last one is in, the others are buffered.
        await client.WaitAsync("waited", Patience);
        var early = await client.GetAsync("early");

        Assert.NotNull(early);
        Assert.Equal(TaskStates.Success, early.Status);
        Assert.Equal("kept", early.Result!.GetValue<string>());
        Assert.Null(await client.GetAsync("never-sent"));
    }

    [Fact]
    public async Task A_failure_result_propagates_through_AsyncResult()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        var failure = TaskResult.Failed("boom", new ExceptionInfo("ValueError", [JsonValue.Create("intentional failure")], "builtins"), "Traceback…");

        await worker.StoreAsync(failure with { ReplyTo = replyTo });
        var error = await Assert.ThrowsAsync<TaskFailedException>(() => new AsyncResult("boom", client).GetAsync(Patience));

        Assert.Contains("intentional failure", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_reply_is_dropped_and_later_results_still_arrive()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        var raw = Track(OpenTransport());

        await raw.PublishAsync("", replyTo, new Envelope { Body = Encoding.UTF8.GetBytes("not json"), Properties = MessageProperties.Json with { CorrelationId = "x" } });
        await raw.PublishAsync("", replyTo, new Envelope { Body = Encoding.UTF8.GetBytes("{}"), Properties = MessageProperties.Json with { ContentType = "application/x-yaml" } });
        await worker.StoreAsync(TaskResult.Succeeded("fine", true) with { ReplyTo = replyTo });

        Assert.Equal(TaskStates.Success, (await client.WaitAsync("fine", Patience)).Status);
        Assert.Null(await client.GetAsync("x"));
    }

    [Fact]
    public async Task Storing_without_a_reply_queue_fails_naming_the_task()
    {
        var (_, worker) = OpenPair();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => worker.StoreAsync(TaskResult.Succeeded("orphan", 1)));

        Assert.Contains("'orphan'", error.Message, StringComparison.Ordinal);
        Assert.Contains("reply_to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_past_the_timeout_fails_naming_the_task()
    {
        var (client, _) = OpenPair();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => client.WaitAsync("silent", TimeSpan.FromMilliseconds(200)));

        Assert.Contains("'silent'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_app_sets_reply_to_on_the_tasks_it_sends_and_reads_the_result_from_it()
    {
        var transport = Track(OpenTransport());
        var backend = new RpcResultBackend(transport, Settings);
        await using var app = new ClusterQueueApp(transport, backend);
        var (_, worker) = OpenPair();
        var workerSide = Track(OpenTransport());

        var sent = await app.SendTaskAsync("tasks.add", [2, 2]);
        await using var consumer = await workerSide.ConsumeAsync("celery", new ConsumeOptions(Prefetch: 1));
        using var timeout = new CancellationTokenSource(Patience);
        var delivery = await consumer.Deliveries.ReadAsync(timeout.Token);
        var task = app.Codec.Decode(delivery.Message);
        await worker.StoreAsync(TaskResult.Succeeded(task.Id, 4) with { ReplyTo = task.ReplyTo, CorrelationId = task.CorrelationId });
        await consumer.AckAsync(delivery);

        Assert.Equal(backend.ReplyQueue, task.ReplyTo);
        Assert.Equal(4, await sent.GetAsync<int>(Patience));
        await backend.DisposeAsync();
    }
}

/// <summary>The rpc backend over <c>memory://</c>.</summary>
public sealed class MemoryRpcResultBackendTests : RpcResultBackendTests
{
    private readonly string name = "rpc-" + Guid.NewGuid().ToString("N");

    protected override ITransport OpenTransport() => TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = $"memory://{name}" });

    [Fact]
    public async Task Opening_rpc_without_a_transport_fails_and_with_one_gives_the_rpc_backend()
    {
        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open(Settings));
        await using var backend = ResultBackends.Open(Settings, transport: Track(OpenTransport()));

        Assert.Contains("transport", error.Message, StringComparison.Ordinal);
        Assert.IsType<RpcResultBackend>(backend);
    }
}

/// <summary>The rpc backend over <c>sqlite:///</c>, where client and worker share a broker file.</summary>
public sealed class SqliteRpcResultBackendTests : RpcResultBackendTests, IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cq-rpc-").FullName;

    protected override ITransport OpenTransport() => TransportRegistry.CreateDefault().Open(new BrokerSettings
    {
        Url = $"sqlite:///{Path.Combine(directory, "broker.db")}",
        PollingInterval = TimeSpan.FromMilliseconds(20),
    });

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

/// <summary>The rpc backend over RabbitMQ, with Celery's reply queue shape.</summary>
[Trait("Server", AmqpTestBroker.Trait)]
public sealed class AmqpRpcResultBackendTests : RpcResultBackendTests
{
    private readonly string vhost = AmqpTestBroker.NewVhost();

    protected override ITransport OpenTransport() => AmqpTestBroker.Open(vhost);

    [Fact]
    public async Task The_reply_queue_is_declared_as_celery_declares_it()
    {
        var (client, _) = OpenPair();
        var replyTo = await ListenAsync(client);
        var factory = new ConnectionFactory { Uri = new Uri(AmqpTestBroker.UrlOf(vhost)) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();

        var ok = await channel.QueueDeclareAsync(replyTo, durable: false, exclusive: false, autoDelete: true,
            arguments: new Dictionary<string, object?> { ["x-expires"] = 86400000 });

        Assert.Equal(1u, ok.ConsumerCount);
    }

    [Fact]
    public async Task After_the_broker_closes_the_connection_the_client_consumes_its_reply_queue_again()
    {
        var (client, worker) = OpenPair();
        var replyTo = await ListenAsync(client);
        await worker.StoreAsync(TaskResult.Succeeded("before", 1) with { ReplyTo = replyTo });
        await client.WaitAsync("before", Patience);

        await AmqpTestBroker.RabbitMqCtlAsync("close_all_connections", "--vhost", vhost, "rpc reconnect test");
        var waiting = client.WaitAsync("after", Patience);
        var deadline = DateTime.UtcNow + Patience;
        // Until the client has consumed its queue again the result may be unroutable, so the worker repeats it, as a retrying worker would.
        while (!waiting.IsCompleted && DateTime.UtcNow < deadline)
        {
            try
            {
                await worker.StoreAsync(TaskResult.Succeeded("after", 2) with { ReplyTo = replyTo });
            }
            catch (TransportException)
            {
            }

            await Task.WhenAny(waiting, Task.Delay(200));
        }

        Assert.Equal(2, (await waiting).Result!.GetValue<int>());
    }
}
