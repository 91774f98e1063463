using BenchmarkDotNet.Attributes;
using Akka.Actor;

namespace ClusterQueue.Bench.Actors;

/// <summary>Tell-to-receive throughput for one pair, fan-out to 100 actors, and Ask round trips.</summary>
[MemoryDiagnoser]
public class ActorMessagingBenchmarks
{
    private const int PairMessages = 1_000_000;
    private const int FanOutActors = 100;
    private const int FanOutPerActor = 10_000;
    private const int PingPongInFlight = 100;
    private const int PingPongRounds = 1_000_000;
    private const int Asks = 10_000;

    private static readonly object Payload = new();

    private ActorSystem _system = null!;
    private IActorRef _counter = null!;
    private IActorRef _blaster = null!;
    private IActorRef[] _fanOutTargets = null!;
    private IActorRef _fanOutSource = null!;
    private IActorRef _ping = null!;
    private IActorRef _echo = null!;
    private CountdownSignal _signal = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _signal = new CountdownSignal();
        _counter = _system.ActorOf(Props.Create(() => new CountingActor(_signal)), "counter");
        _blaster = _system.ActorOf(Props.Create(() => new BlastingActor(_counter, PairMessages)), "blaster");
        _fanOutTargets = Enumerable.Range(0, FanOutActors)
            .Select(i => _system.ActorOf(Props.Create(() => new CountingActor(_signal)), "target" + i))
            .ToArray();
        _fanOutSource = _system.ActorOf(Props.Create(() => new FanOutActor(_fanOutTargets, FanOutPerActor)), "fanout");
        var pong = _system.ActorOf(Props.Create(() => new PongActor()), "pong");
        _ping = _system.ActorOf(Props.Create(() => new PingActor(pong, _signal)), "ping");
        _echo = _system.ActorOf(Props.Create(() => new EchoActor()), "echo");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(30));

    /// <summary>An actor tells 1,000,000 messages to a counting actor.</summary>
    [Benchmark(OperationsPerInvoke = PairMessages)]
    public void PairTellThroughput()
    {
        var done = _signal.Arm(PairMessages);
        _blaster.Tell(Payload, ActorRefs.NoSender);
        done.Wait();
    }

    /// <summary>Ping-pong between two actors with 100 messages in flight.</summary>
    [Benchmark(OperationsPerInvoke = PingPongRounds)]
    public void PingPongThroughput()
    {
        var done = _signal.Arm(PingPongRounds);
        _ping.Tell(new StartPing(PingPongInFlight, PingPongRounds), null);
        done.Wait();
    }

    /// <summary>One actor tells 10,000 messages to each of 100 actors.</summary>
    [Benchmark(OperationsPerInvoke = FanOutActors * FanOutPerActor)]
    public void FanOutThroughput()
    {
        var done = _signal.Arm(FanOutActors * FanOutPerActor);
        _fanOutSource.Tell(Payload, null);
        done.Wait();
    }

    /// <summary>Sequential Ask round trips from outside the system.</summary>
    [Benchmark(OperationsPerInvoke = Asks)]
    public async Task AskRoundTrip()
    {
        for (var i = 0; i < Asks; i++)
        {
            await _echo.Ask<object>(Payload, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    /// <summary>Completes a wait after a set number of counted messages, whichever actors count them.</summary>
    private sealed class CountdownSignal
    {
        private long _remaining;
        private ManualResetEventSlim _done = new();

        public ManualResetEventSlim Arm(long count)
        {
            _done = new ManualResetEventSlim();
            Volatile.Write(ref _remaining, count);
            return _done;
        }

        public void Count()
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.Set();
            }
        }

        public void CountMany(long n)
        {
            if (Interlocked.Add(ref _remaining, -n) == 0)
            {
                _done.Set();
            }
        }
    }

    private sealed class CountingActor : ReceiveActor
    {
        private const int Batch = 1000;
        private int _pending;

        // Counting into the shared signal in batches keeps the benchmark measuring the mailbox, not one contended counter.
        public CountingActor(CountdownSignal signal) => ReceiveAny(_ =>
        {
            if (++_pending == Batch)
            {
                _pending = 0;
                signal.CountMany(Batch);
            }
        });
    }

    private sealed class BlastingActor : ReceiveActor
    {
        public BlastingActor(IActorRef target, int count) => ReceiveAny(message =>
        {
            for (var i = 0; i < count; i++)
            {
                target.Tell(message, Self);
            }
        });
    }

    private sealed class FanOutActor : ReceiveActor
    {
        public FanOutActor(IActorRef[] targets, int perTarget) => ReceiveAny(message =>
        {
            for (var i = 0; i < perTarget; i++)
            {
                foreach (var target in targets)
                {
                    target.Tell(message, Self);
                }
            }
        });
    }

    private sealed record StartPing(int InFlight, int Rounds);

    private sealed class PingActor : ReceiveActor
    {
        private int _toSend;

        public PingActor(IActorRef pong, CountdownSignal signal)
        {
            Receive<StartPing>(start =>
            {
                _toSend = start.Rounds - start.InFlight;
                for (var i = 0; i < start.InFlight; i++)
                {
                    pong.Tell(Payload, Self);
                }
            });
            ReceiveAny(_ =>
            {
                signal.Count();
                if (_toSend > 0)
                {
                    _toSend--;
                    pong.Tell(Payload, Self);
                }
            });
        }
    }

    private sealed class PongActor : ReceiveActor
    {
        public PongActor() => ReceiveAny(message => Sender.Tell(message, Self));
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => ReceiveAny(message => Sender.Tell(message, Self));
    }
}
