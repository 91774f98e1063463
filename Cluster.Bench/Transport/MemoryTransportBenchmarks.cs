using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Transport;

/// <summary>Publish, consume and ack through <c>memory://</c>, against a bare channel carrying the same envelopes.</summary>
[MemoryDiagnoser]
public class MemoryTransportBenchmarks
{
    private const int Messages = 1_000;
    private readonly Envelope message = new() { Body = "{\"task\":\"add\"}"u8.ToArray() };
    private ITransport transport = null!;
    private IQueueConsumer consumer = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        await transport.DeclareQueueAsync(new QueueDeclaration("bench"));
        consumer = await transport.ConsumeAsync("bench", new ConsumeOptions(Prefetch: 100));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await consumer.DisposeAsync();
        await transport.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public async Task RawChannel()
    {
        var channel = Channel.CreateUnbounded<Envelope>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        for (var i = 0; i < Messages; i++)
        {
            channel.Writer.TryWrite(message);
        }

        for (var i = 0; i < Messages; i++)
        {
            await channel.Reader.ReadAsync();
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task PublishConsumeAck()
    {
        for (var i = 0; i < Messages; i++)
        {
            await transport.PublishAsync("", "bench", message);
        }

        for (var i = 0; i < Messages; i++)
        {
            await consumer.AckAsync(await consumer.Deliveries.ReadAsync());
        }
    }
}
