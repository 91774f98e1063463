using System.Text;
using BenchmarkDotNet.Attributes;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;
using RabbitMQ.Client;
using ExchangeType = ClusterQueue.Transport.ExchangeType;

namespace ClusterQueue.Bench.Transport.Amqp;

/// <summary>
/// Publishing a Celery-sized task message to RabbitMQ: RabbitMQ.Client directly against this transport, with and without
/// publisher confirms. Needs a broker: CQ_BENCH_AMQP_URL, or CQ_TEST_AMQP_URL as test.sh sets it.
/// </summary>
[MemoryDiagnoser]
public class AmqpPublishBenchmarks
{
    private const int Messages = 100;
    private const string Queue = "cq.bench.publish";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""[[2, 2], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]""");

    private readonly Envelope envelope = new()
    {
        Body = Body,
        Headers = new Dictionary<string, object?> { ["lang"] = "py", ["task"] = "tasks.add", ["id"] = "6b7e1c9e-6a7f-4b8e-9c1d-2f3a4b5c6d7e", ["retries"] = 0 },
        Properties = MessageProperties.Json with { CorrelationId = "6b7e1c9e-6a7f-4b8e-9c1d-2f3a4b5c6d7e", ReplyTo = "" },
    };

    private IConnection rawConnection = null!;
    private IChannel rawChannel = null!;
    private IChannel rawConfirmChannel = null!;
    private ITransport transport = null!;
    private ITransport confirmingTransport = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var url = Environment.GetEnvironmentVariable("CQ_BENCH_AMQP_URL") is { Length: > 0 } bench ? bench
            : Environment.GetEnvironmentVariable("CQ_TEST_AMQP_URL") is { Length: > 0 } test ? test
            : throw new InvalidOperationException("set CQ_BENCH_AMQP_URL to a RabbitMQ URL (amqp://user:pass@127.0.0.1:5672/)");
        transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = url });
        confirmingTransport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = url, Amqp = new AmqpSettings { ConfirmPublish = true } });
        // Bounded, so that a long run does not fill the broker's memory: the oldest messages are dropped.
        await transport.DeclareQueueAsync(new QueueDeclaration(Queue, Durable: false, Arguments: new Dictionary<string, object?> { ["x-max-length"] = 10_000 }));
        await transport.DeclareExchangeAsync(new ExchangeDeclaration("celery", ExchangeType.Direct));
        rawConnection = await new ConnectionFactory { Uri = new Uri(url) }.CreateConnectionAsync();
        rawChannel = await rawConnection.CreateChannelAsync();
        rawConfirmChannel = await rawConnection.CreateChannelAsync(new CreateChannelOptions(true, true));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await transport.DeleteQueueAsync(Queue);
        await transport.DisposeAsync();
        await confirmingTransport.DisposeAsync();
        await rawConfirmChannel.DisposeAsync();
        await rawChannel.DisposeAsync();
        await rawConnection.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public async Task RawClient()
    {
        for (var i = 0; i < Messages; i++)
        {
            await rawChannel.BasicPublishAsync("", Queue, mandatory: true, RawProperties(), Body);
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task Transport()
    {
        for (var i = 0; i < Messages; i++)
        {
            await transport.PublishAsync("", Queue, envelope);
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task RawClientConfirmed()
    {
        for (var i = 0; i < Messages; i++)
        {
            await rawConfirmChannel.BasicPublishAsync("", Queue, mandatory: true, RawProperties(), Body);
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task TransportConfirmed()
    {
        for (var i = 0; i < Messages; i++)
        {
            await confirmingTransport.PublishAsync("", Queue, envelope);
        }
    }

    private BasicProperties RawProperties() => new()
    {
        ContentType = "application/json",
        ContentEncoding = "utf-8",
        DeliveryMode = DeliveryModes.Persistent,
        CorrelationId = envelope.Properties.CorrelationId,
        Headers = new Dictionary<string, object?> { ["lang"] = "py", ["task"] = "tasks.add", ["id"] = envelope.Properties.CorrelationId, ["retries"] = 0 },
    };
}
