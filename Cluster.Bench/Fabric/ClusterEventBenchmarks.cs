using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Fabric;

/// <summary>
/// Task events through the cluster topic: a worker's dispatcher in one member, a subscriber in another, over Akka.Remote
/// on loopback, singly or in <c>task.multi</c> batches, per event. <see cref="EventPublishBenchmarks"/> is the same
/// through the memory broker.
/// </summary>
[MemoryDiagnoser]
public class ClusterEventBenchmarks
{
    private const int Events = 10_000;

    private ActorSystem _publisher = null!;
    private ActorSystem _subscriber = null!;
    private ITransport _transport = null!;
    private EventDispatcher _dispatcher = null!;
    private Counter _counter = null!;

    [Params(false, true)]
    public bool Batched { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _publisher = Member(seed: null);
        var seed = Akka.Cluster.Cluster.Get(_publisher).SelfAddress;
        await Join(_publisher, seed);
        _subscriber = Member(seed);
        await Join(_subscriber, seed);
        _counter = new Counter();
        var subscribed = new TaskCompletionSource();
        var actor = _subscriber.ActorOf(Props.Create(() => new CountingSubscriber(_counter, subscribed)));
        ClusterEventSink.Subscribe(_subscriber, actor);
        await subscribed.Task;

        _transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        _dispatcher = new EventDispatcher(_transport, "celery@bench", new LamportClock(), options: new EventDispatcherOptions
        {
            BatchTaskEvents = Batched,
            FlushInterval = TimeSpan.Zero,
            ClusterSink = new ClusterEventSink(_publisher),
        });
        await _dispatcher.StartAsync();

        // The subscription reaches the publisher's mediator by gossip.
        while (_counter.Value == 0)
        {
            await _dispatcher.SendAsync(new TaskSucceededEvent("0824f6c1-297b-4526-8b8c-3a6b514ae977", "4", 0.0012));
            await _dispatcher.FlushAsync();
            await Task.Delay(100);
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _dispatcher.DisposeAsync();
        await _transport.DisposeAsync();
        await _subscriber.Terminate();
        await _publisher.Terminate();
    }

    /// <summary>Sends 10,000 task-succeeded events and returns when the subscriber in the other member has all of them.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task PublishAndReceive()
    {
        var target = _counter.Value + Events;
        for (var i = 0; i < Events; i++)
        {
            await _dispatcher.SendAsync(new TaskSucceededEvent("0824f6c1-297b-4526-8b8c-3a6b514ae977", "4", 0.0012));
        }

        await _dispatcher.FlushAsync();
        await _counter.WaitForAsync(target);
    }

    private static ActorSystem Member(Address? seed) =>
        ActorSystem.Create(ClusterSettings.SystemName, ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.loggers = [\"Akka.Event.DefaultLogger\"]")
            .WithFallback(new ClusterSettings { Seeds = seed is null ? [] : [seed.ToString()] }.ToAkkaConfig(["bench"]))
            .WithFallback(ConfigurationFactory.ParseString("akka.cluster.distributed-data.durable.keys = []"))
            .WithFallback(AkkaConfiguration.Reference));

    private static Task Join(ActorSystem system, Address seed)
    {
        var up = new TaskCompletionSource();
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(seed);
        return up.Task;
    }

    /// <summary>Events received, counted from the batches' bodies.</summary>
    private sealed class Counter
    {
        private long _value;
        private TaskCompletionSource? _waiter;
        private long _target;

        public long Value => Interlocked.Read(ref _value);

        public void Add(int count)
        {
            var now = Interlocked.Add(ref _value, count);
            if (_waiter is { } waiter && now >= Interlocked.Read(ref _target)) waiter.TrySetResult();
        }

        public Task WaitForAsync(long target)
        {
            Interlocked.Exchange(ref _target, target);
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiter = waiter;
            if (Value >= target) waiter.TrySetResult();
            return waiter.Task;
        }
    }

    private sealed class CountingSubscriber : ReceiveActor
    {
        public CountingSubscriber(Counter counter, TaskCompletionSource subscribed)
        {
            Receive<SubscribeAck>(_ => subscribed.TrySetResult());
            Receive<EventsPublished>(e => counter.Add(EventCodec.DecodeBody(e.Body).Count));
        }
    }
}
