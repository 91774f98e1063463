using BenchmarkDotNet.Attributes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Fabric;

/// <summary>Task events from a dispatcher to a receiver on the memory broker, singly or in <c>task.multi</c> batches, per event.</summary>
[MemoryDiagnoser]
public class EventPublishBenchmarks
{
    private const int Events = 10_000;

    private ITransport _transport = null!;
    private EventDispatcher _dispatcher = null!;
    private EventReceiver _receiver = null!;

    [Params(false, true)]
    public bool Batched { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        _receiver = new EventReceiver(_transport, "task.#");
        _receiver.StartAsync().GetAwaiter().GetResult();
        _dispatcher = new EventDispatcher(_transport, "celery@bench", new LamportClock(), options: new EventDispatcherOptions { BatchTaskEvents = Batched, FlushInterval = TimeSpan.Zero });
        _dispatcher.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dispatcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _receiver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Sends 10,000 task-succeeded events and returns when the receiver has decoded all of them.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task PublishAndReceive()
    {
        for (var i = 0; i < Events; i++)
        {
            await _dispatcher.SendAsync(new TaskSucceededEvent("0824f6c1-297b-4526-8b8c-3a6b514ae977", "4", 0.0012));
        }

        await _dispatcher.FlushAsync();
        for (var i = 0; i < Events; i++) await _receiver.Events.ReadAsync();
    }
}
