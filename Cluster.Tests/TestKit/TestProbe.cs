using System.Diagnostics;
using System.Threading.Channels;
using ClusterQueue.Actors;
using Xunit.Sdk;

namespace ClusterQueue.Tests.TestKit;

/// <summary>An actor reference that records what it is told, with Akka TestKit style expectations.</summary>
public sealed class TestProbe : IActorRef
{
    /// <summary>Generous because the build machine is small and shared; a passing expectation returns at once.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private static long s_counter;
    private readonly Channel<(object Message, IActorRef? Sender)> _received = Channel.CreateUnbounded<(object, IActorRef?)>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private long? _withinDeadline;

    public TestProbe(ActorSystem system, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        Ref = system.SystemActorOf(Props.Create(() => new ProbeActor(_received.Writer)), name ?? "testProbe-" + Interlocked.Increment(ref s_counter));
    }

    /// <summary>The probe's own actor; use it where identity matters (Sender checks, watching the probe).</summary>
    public IActorRef Ref { get; }

    public ActorPath Path => Ref.Path;

    /// <summary>Sender of the message returned last by an expectation.</summary>
    public IActorRef? LastSender { get; private set; }

    public void Tell(object message, IActorRef? sender) => Ref.Tell(message, sender);

    /// <summary>Tells <paramref name="target"/> with this probe as the sender.</summary>
    public void Send(IActorRef target, object message) => target.Tell(message, Ref);

    public void Reply(object message) =>
        (LastSender ?? throw new InvalidOperationException("Reply needs a message received first.")).Tell(message, Ref);

    /// <summary>The probe will receive <see cref="Terminated"/> for <paramref name="actor"/>, even if it has already stopped.</summary>
    public IActorRef Watch(IActorRef actor)
    {
        Ref.Tell(new WatchRequest(actor, true), ActorRefs.NoSender);
        return actor;
    }

    public void Unwatch(IActorRef actor) => Ref.Tell(new WatchRequest(actor, false), ActorRefs.NoSender);

    public Task<T> ExpectMsgAsync<T>(TimeSpan? timeout = null) => ExpectMsgAsync<T>(static _ => true, "any", timeout);

    public Task<T> ExpectMsgAsync<T>(Func<T, bool> predicate, TimeSpan? timeout = null) => ExpectMsgAsync(predicate, "matching the predicate", timeout);

    public Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? timeout = null) =>
        ExpectMsgAsync<T>(actual => Equals(actual, expected), $"equal to {expected}", timeout);

    /// <summary>Fails if any message arrives within <paramref name="duration"/>.</summary>
    public async Task ExpectNoMsgAsync(TimeSpan duration)
    {
        var next = await TryReceiveAsync(duration).ConfigureAwait(false);
        if (next is { } received)
        {
            throw new XunitException($"{Path}: expected no message for {duration}, got {Describe(received.Message)}.");
        }
    }

    public Task<Terminated> ExpectTerminatedAsync(IActorRef actor, TimeSpan? timeout = null) =>
        ExpectMsgAsync<Terminated>(t => t.ActorRef.Equals(actor), $"Terminated({actor.Path})", timeout);

    /// <summary>Skips messages until one of type <typeparamref name="T"/> matches; fails at the timeout.</summary>
    public async Task<T> FishForMessageAsync<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
    {
        var start = Stopwatch.GetTimestamp();
        var budget = Remaining(timeout);
        while (true)
        {
            var left = budget - Stopwatch.GetElapsedTime(start);
            var next = await TryReceiveAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
            if (next is not { } received)
            {
                throw new XunitException($"{Path}: no {typeof(T).Name} matching the predicate within {budget}.");
            }

            if (received.Message is T typed && predicate(typed))
            {
                LastSender = received.Sender;
                return typed;
            }
        }
    }

    /// <summary>Runs <paramref name="action"/>; its expectations share the budget, and taking longer than <paramref name="max"/> fails.</summary>
    public async Task WithinAsync(TimeSpan max, Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var start = Stopwatch.GetTimestamp();
        _withinDeadline = start + (long)(max.TotalSeconds * Stopwatch.Frequency);
        try
        {
            await action().ConfigureAwait(false);
        }
        finally
        {
            _withinDeadline = null;
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        if (elapsed > max)
        {
            throw new XunitException($"{Path}: block took {elapsed}, more than the allowed {max}.");
        }
    }

    public override string ToString() => $"TestProbe({Path})";

    private static string Describe(object message) => $"{message.GetType().Name} '{message}'";

    private async Task<T> ExpectMsgAsync<T>(Func<T, bool> predicate, string description, TimeSpan? timeout)
    {
        var budget = Remaining(timeout);
        var next = await TryReceiveAsync(budget).ConfigureAwait(false);
        if (next is not { } received)
        {
            throw new XunitException($"{Path}: timeout ({budget}) waiting for {typeof(T).Name} {description}.");
        }

        if (received.Message is not T typed || !predicate(typed))
        {
            throw new XunitException($"{Path}: expected {typeof(T).Name} {description}, got {Describe(received.Message)}.");
        }

        LastSender = received.Sender;
        return typed;
    }

    private TimeSpan Remaining(TimeSpan? requested)
    {
        var wanted = requested ?? DefaultTimeout;
        if (_withinDeadline is not { } deadline)
        {
            return wanted;
        }

        var left = TimeSpan.FromSeconds((double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
        return left < wanted ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : wanted;
    }

    private async Task<(object Message, IActorRef? Sender)?> TryReceiveAsync(TimeSpan timeout)
    {
        if (_received.Reader.TryRead(out var ready))
        {
            return ready;
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await _received.Reader.ReadAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return null;
        }
    }

    private sealed record WatchRequest(IActorRef Target, bool Watch);

    private sealed class ProbeActor : ReceiveActor
    {
        public ProbeActor(ChannelWriter<(object, IActorRef?)> received)
        {
            Receive<WatchRequest>(request =>
            {
                if (request.Watch)
                {
                    Context.Watch(request.Target);
                }
                else
                {
                    Context.Unwatch(request.Target);
                }
            });
            ReceiveAny(message => received.TryWrite((message, Sender)));
        }
    }
}
