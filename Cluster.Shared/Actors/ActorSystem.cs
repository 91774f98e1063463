using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Actors;

/// <summary>A tree of actors under /user and /system, with its scheduler, event stream and dead letters.</summary>
public sealed class ActorSystem
{
    private readonly ActorCell _root;
    private readonly ActorCell _userGuardian;
    private readonly ActorCell _systemGuardian;
    private readonly TaskCompletionSource _whenTerminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _terminateStarted;
    private long _liveActors;

    private ActorSystem(string name, ILoggerFactory loggerFactory)
    {
        Name = name;
        LoggerFactory = loggerFactory;
        KernelLog = loggerFactory.CreateLogger("ClusterQueue.Actors");
        RootPath = ActorPath.Root(name);
        DeadLetterSink = new DeadLetterSink(this);

        // Failures that reach the top stop the guardian (and with /user, the whole system), as in Akka.
        var rootProps = Props.Create(() => new Guardian()).WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Stop));
        _root = new ActorCell(this, null, rootProps, RootPath);
        _root.SendSystemMessage(Actors.Create.Instance);
        _userGuardian = (ActorCell)_root.ActorOf(Props.Create(() => new Guardian()), "user");
        _systemGuardian = (ActorCell)_root.ActorOf(Props.Create(() => new Guardian()), "system");
        _userGuardian.WhenTerminated.ContinueWith(_ => Terminate(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public string Name { get; }

    public ILoggerFactory LoggerFactory { get; }

    public EventStream EventStream { get; } = new();

    public Scheduler Scheduler { get; } = new();

    /// <summary>Messages told here, and replies to messages sent without a sender, become <see cref="DeadLetter"/>s.</summary>
    public IActorRef DeadLetters => DeadLetterSink;

    /// <summary>Completes once every actor has stopped and PostStop has run everywhere.</summary>
    public Task WhenTerminated => _whenTerminated.Task;

    /// <summary>Actors started and not yet stopped, guardians included; a leak shows up here.</summary>
    public long LiveActorCount => Interlocked.Read(ref _liveActors);

    internal ActorPath RootPath { get; }

    internal ILogger KernelLog { get; }

    internal DeadLetterSink DeadLetterSink { get; }

    /// <summary>Creates a system; <paramref name="name"/> uses letters, digits, '-' and '_'.</summary>
    public static ActorSystem Create(string name, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException($"Invalid actor system name '{name}': use letters, digits, '-' and '_'.", nameof(name));
        }

        return new ActorSystem(name, loggerFactory ?? NullLoggerFactory.Instance);
    }

    /// <summary>Creates a top-level actor under /user.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => _userGuardian.ActorOf(props, name);

    /// <summary>Creates a kernel or tooling actor under /system; it outlives every /user actor during shutdown.</summary>
    public IActorRef SystemActorOf(Props props, string? name = null) => _systemGuardian.ActorOf(props, name);

    /// <summary>Stops any actor of this system, its children first.</summary>
    public void Stop(IActorRef actor)
    {
        if (actor is not IInternalActorRef target || target.System != this)
        {
            throw new ArgumentException($"{actor.Path} is not an actor of system '{Name}'.", nameof(actor));
        }

        target.SendSystemMessage(Actors.Stop.Instance);
    }

    /// <summary>Stops /user, then /system, top-down; returns <see cref="WhenTerminated"/>.</summary>
    public Task Terminate()
    {
        if (Interlocked.Exchange(ref _terminateStarted, 1) == 0)
        {
            _ = RunTerminationAsync();
        }

        return WhenTerminated;
    }

    public override string ToString() => $"ActorSystem({Name})";

    internal void OnActorCreated() => Interlocked.Increment(ref _liveActors);

    internal void OnActorStopped() => Interlocked.Decrement(ref _liveActors);

    internal void PublishUnhandled(UnhandledMessage unhandled)
    {
        KernelLog.LogWarning("Unhandled {MessageType} from {Sender} in {Recipient}", unhandled.Message.GetType().Name, unhandled.Sender?.Path, unhandled.Recipient.Path);
        EventStream.Publish(unhandled);
    }

    private async Task RunTerminationAsync()
    {
        try
        {
            foreach (var guardian in new[] { _userGuardian, _systemGuardian, _root })
            {
                guardian.SendSystemMessage(Actors.Stop.Instance);
                await guardian.WhenTerminated.ConfigureAwait(false);
            }
        }
        finally
        {
            Scheduler.Shutdown();
            _whenTerminated.TrySetResult();
        }
    }

    private sealed class Guardian : ReceiveActor;
}
