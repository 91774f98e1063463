using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Actors;

/// <summary>One message and who sent it; a struct so that a Tell allocates nothing beyond the message.</summary>
internal readonly struct MessageEnvelope(object message, IActorRef? sender)
{
    public object Message { get; } = message;

    public IActorRef? Sender { get; } = sender;
}

/// <summary>
/// The running side of one actor: its mailbox, its current instance, its children and watchers.
/// The cell is also the actor's reference and context, so a restart swaps the instance but keeps the
/// cell, the mailbox and every reference to it.
/// </summary>
internal sealed class ActorCell : IInternalActorRef, IActorContext, IThreadPoolWorkItem
{
    /// <summary>
    /// User messages handled per turn before the cell yields its thread-pool thread, like Akka's dispatcher
    /// throughput: high enough to amortise scheduling, low enough that one busy actor cannot starve others.
    /// </summary>
    internal const int Throughput = 100;

    /// <summary>
    /// SingleReader: only the cell's own turn reads, which selects the cheaper single-consumer channel.
    /// SingleWriter is false because any thread may Tell. AllowSynchronousContinuations is false so a
    /// sender never runs someone else's continuation inline (the cell never awaits reads anyway; it polls
    /// with TryRead inside its turn and is rescheduled by the writer).
    /// </summary>
    internal static readonly UnboundedChannelOptions MailboxOptions = new()
    {
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    };

    private const int Running = 0;
    private const int Terminating = 1;
    private const int Dead = 2;

    [ThreadStatic]
    private static ActorCell? t_constructing;

    private readonly Channel<MessageEnvelope> _user = Channel.CreateUnbounded<MessageEnvelope>(MailboxOptions);
    private readonly Channel<SystemMessage> _system = Channel.CreateUnbounded<SystemMessage>(MailboxOptions);
    private readonly ActorCell? _parent;
    private readonly Props _props;
    private readonly Dictionary<string, ActorCell> _children = new(StringComparer.Ordinal);
    private readonly Dictionary<ActorCell, ChildRestartStats> _restartStats = [];
    private readonly HashSet<ActorCell> _stoppingChildren = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _resumeAfterAsyncHandler;
    private HashSet<IInternalActorRef>? _watchers;
    private HashSet<IInternalActorRef>? _watching;
    private HashSet<IInternalActorRef>? _terminatedQueued;
    private Queue<MessageEnvelope>? _unstashed;
    private MailboxStash? _stash;
    private ActorBase? _actor;
    private SupervisorStrategy? _strategy;
    private MessageEnvelope? _current;
    private object? _failedMessage;
    private Exception? _restartPendingCause;
    private Task? _pendingHandler;
    private long _nameCounter;
    private long _turns;
    private int _scheduled;
    private volatile int _state;
    private volatile bool _stopRequested;
    private bool _suspended;

    internal ActorCell(ActorSystem system, ActorCell? parent, Props props, ActorPath path)
    {
        System = system;
        _parent = parent;
        _props = props;
        Path = path;
        _resumeAfterAsyncHandler = () => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        system.OnActorCreated();
    }

    internal static ActorCell? Constructing => t_constructing;

    public ActorPath Path { get; }

    public ActorSystem System { get; }

    public IActorRef Self => this;

    public IActorRef Sender => _current?.Sender ?? System.DeadLetters;

    public IActorRef Parent => _parent ?? (IActorRef)this;

    public CancellationToken CancellationToken => _stopping.Token;

    public IReadOnlyCollection<IActorRef> Children
    {
        get
        {
            lock (_children)
            {
                return _children.Values.ToArray();
            }
        }
    }

    internal MessageEnvelope? CurrentEnvelope => _current;

    internal Task WhenTerminated => _terminated.Task;

    /// <summary>Thread-pool turns taken so far; shows that a long backlog is split into throughput-sized turns.</summary>
    internal long Turns => Volatile.Read(ref _turns);

    private ILogger Log => System.KernelLog;

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_user.Writer.TryWrite(new MessageEnvelope(message, sender)))
        {
            TrySchedule();
        }
        else
        {
            System.DeadLetterSink.Publish(message, sender, this);
        }
    }

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is Stop)
        {
            // Cancel at once, not when the Stop is dequeued: a ReceiveAsync handler that is awaiting holds
            // the mailbox, and only the token can tell it to finish.
            _stopRequested = true;
            CancelStoppingToken();
        }

        if (_system.Writer.TryWrite(message))
        {
            TrySchedule();
        }
        else if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
        }
    }

    public IActorRef ActorOf(Props props, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(props);
        name = name is null ? "$" + Interlocked.Increment(ref _nameCounter).ToString(CultureInfo.InvariantCulture) : ValidateName(name);
        ActorCell child;
        lock (_children)
        {
            if (_state != Running)
            {
                throw new ActorSystemTerminatedException(System.Name, $"create '{name}' under {Path}, which is stopping");
            }

            if (_children.ContainsKey(name))
            {
                throw new InvalidActorNameException($"Actor name '{name}' is not unique under {Path}.");
            }

            child = new ActorCell(System, this, props, Path / name);
            _children.Add(name, child);
        }

        child.SendSystemMessage(Actors.Create.Instance);
        return child;
    }

    public IActorRef? Child(string name)
    {
        lock (_children)
        {
            return _children.TryGetValue(name, out var child) ? child : null;
        }
    }

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is ActorCell cell && cell._parent == this && IsLiveChild(cell))
        {
            // Only children still listed: a restart waits for these, and a child already gone would never report back.
            _stoppingChildren.Add(cell);
        }

        if (actor is IInternalActorRef target)
        {
            target.SendSystemMessage(Actors.Stop.Instance);
        }
        else
        {
            throw new ArgumentException($"{actor.Path} is not an actor of this system and cannot be stopped.", nameof(actor));
        }
    }

    public IActorRef Watch(IActorRef actor)
    {
        var target = actor as IInternalActorRef
            ?? throw new ArgumentException($"{actor.Path} cannot be watched: it is not an actor of this system.", nameof(actor));
        if (!ReferenceEquals(target, this) && (_watching ??= []).Add(target))
        {
            target.SendSystemMessage(new Watch(target, this));
        }

        return actor;
    }

    public IActorRef Unwatch(IActorRef actor)
    {
        if (actor is IInternalActorRef target && _watching?.Remove(target) == true)
        {
            _terminatedQueued?.Remove(target);
            target.SendSystemMessage(new Unwatch(target, this));
        }
        else if (actor is IInternalActorRef queued)
        {
            _terminatedQueued?.Remove(queued);
        }

        return actor;
    }

    /// <summary>Puts stashed messages ahead of everything still in the mailbox, keeping their order.</summary>
    internal void Prepend(List<MessageEnvelope> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var queue = new Queue<MessageEnvelope>(messages);
        if (_unstashed is not null)
        {
            foreach (var waiting in _unstashed)
            {
                queue.Enqueue(waiting);
            }
        }

        _unstashed = queue;
    }

    public void Execute()
    {
        _turns++;
        if (_pendingHandler is { } finished)
        {
            _pendingHandler = null;
            ObserveHandler(finished);
        }

        var processed = 0;
        while (true)
        {
            if (!ProcessSystemMessages())
            {
                // Dead: keep the scheduled flag set so nothing ever runs this cell again.
                return;
            }

            if (processed >= Throughput || !CanTakeUserMessage() || !TryDequeueUser(out var envelope))
            {
                break;
            }

            processed++;
            var handler = Invoke(envelope);
            if (handler is null)
            {
                continue;
            }

            if (!handler.IsCompleted)
            {
                // Keep the scheduled flag: the mailbox waits for the handler, so the actor takes one message at a time.
                _pendingHandler = handler;
                handler.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_resumeAfterAsyncHandler);
                return;
            }

            ObserveHandler(handler);
        }

        // A full fence, not a release write: the mailbox peek below must not be reordered before this store, or a
        // teller that enqueued meanwhile and still saw the flag set is never scheduled (a lost wake-up, seen on x64).
        Interlocked.Exchange(ref _scheduled, 0);
        if (HasWork())
        {
            TrySchedule();
        }
    }

    public override string ToString() => Path.ToString();

    private static string ValidateName(string name)
    {
        if (name.Length == 0 || name[0] == '$' || !name.All(IsNameChar))
        {
            throw new InvalidActorNameException(
                $"Invalid actor name '{name}': use letters, digits and -_.:@+=~ and do not start with '$' (reserved for generated names).");
        }

        return name;

        static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@' or '+' or '=' or '~' or '$';
    }

    private bool IsLiveChild(ActorCell child)
    {
        lock (_children)
        {
            return _children.TryGetValue(child.Path.Name, out var known) && known == child;
        }
    }

    private void TrySchedule()
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            // Unsafe: actor code must not inherit the teller's ExecutionContext (AsyncLocals, activities).
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private bool CanTakeUserMessage() => _state == Running && !_suspended && _actor is not null && _restartPendingCause is null;

    private bool HasWork() =>
        _system.Reader.TryPeek(out _)
        || (CanTakeUserMessage() && (_unstashed is { Count: > 0 } || _user.Reader.TryPeek(out _)));

    private bool TryDequeueUser(out MessageEnvelope envelope)
    {
        if (_unstashed is { Count: > 0 })
        {
            envelope = _unstashed.Dequeue();
            return true;
        }

        return _user.Reader.TryRead(out envelope);
    }

    private Task? Invoke(MessageEnvelope envelope)
    {
        _current = envelope;
        try
        {
            switch (envelope.Message)
            {
                case PoisonPill:
                    SendSystemMessage(Actors.Stop.Instance);
                    _current = null;
                    return null;
                case Terminated terminated when !(_terminatedQueued?.Remove((IInternalActorRef)terminated.ActorRef) ?? false):
                    // Unwatched after the notification was queued: Akka does not deliver it then either.
                    _current = null;
                    return null;
            }

            var handler = _actor!.Dispatch(envelope.Message);
            if (handler is null)
            {
                _current = null;
            }

            return handler;
        }
        catch (Exception ex)
        {
            HandleInvokeFailure(ex);
            return null;
        }
    }

    private void ObserveHandler(Task handler)
    {
        if (handler.IsFaulted)
        {
            var exception = handler.Exception!;
            HandleInvokeFailure(exception.InnerExceptions.Count == 1 ? exception.InnerExceptions[0] : exception);
        }
        else if (handler.IsCanceled)
        {
            HandleInvokeFailure(new TaskCanceledException(handler));
        }
        else
        {
            _current = null;
        }
    }

    private void HandleInvokeFailure(Exception cause)
    {
        if (_stopRequested || _state != Running)
        {
            // A handler cut short by the stop token ends this way; the actor is going away anyway.
            Log.LogDebug(cause, "Actor {Path} failed while stopping; ignored", Path);
            _current = null;
            return;
        }

        _suspended = true;
        _failedMessage = _current?.Message;
        _current = null;
        if (_parent is null)
        {
            Log.LogCritical(cause, "Root actor {Path} failed; terminating the actor system", Path);
            _ = System.Terminate();
            return;
        }

        _parent.SendSystemMessage(new Failed(this, cause));
    }

    private bool ProcessSystemMessages()
    {
        while (_system.Reader.TryRead(out var message))
        {
            switch (message)
            {
                case Actors.Create:
                    CreateInstance(null);
                    break;
                case Actors.Stop:
                    BeginStop();
                    break;
                case Resume:
                    ResumeAfterFailure();
                    break;
                case Recreate recreate:
                    BeginRestart(recreate.Cause);
                    break;
                case Failed failed:
                    HandleChildFailure(failed);
                    break;
                case ChildTerminated terminated:
                    HandleChildTerminated(terminated.Child);
                    break;
                case Watch watch:
                    (_watchers ??= []).Add(watch.Watcher);
                    break;
                case Unwatch unwatch:
                    _watchers?.Remove(unwatch.Watcher);
                    break;
                case DeathWatchNotification notification:
                    HandleDeathWatchNotification(notification.Actor);
                    break;
            }

            if (_state == Dead)
            {
                return false;
            }
        }

        return true;
    }

    private void CreateInstance(Exception? restartCause)
    {
        try
        {
            ActorBase actor;
            t_constructing = this;
            try
            {
                actor = _props.Factory();
            }
            finally
            {
                t_constructing = null;
            }

            if (!ReferenceEquals(actor.Cell, this))
            {
                throw new InvalidOperationException($"Props for {Path} returned an existing {actor.GetType().Name}; the factory must create a new instance each call.");
            }

            (actor as ReceiveActor)?.MarkConstructed();
            _actor = actor;
            _strategy = _props.SupervisorStrategy ?? actor.SupervisorStrategy();
            if (actor is IWithStash withStash)
            {
                withStash.Stash = _stash ??= new MailboxStash(this);
            }

            if (restartCause is null)
            {
                actor.PreStart();
            }
            else
            {
                actor.PostRestart(restartCause);
            }
        }
        catch (Exception ex)
        {
            HandleInvokeFailure(new ActorInitializationException(Path, ex));
        }
    }

    private void ResumeAfterFailure()
    {
        if (_actor is null)
        {
            // Nothing to resume when the instance never started; a fresh one is the only way on.
            BeginRestart(new InvalidOperationException($"Resume of {Path}, which has no running instance."));
            return;
        }

        _suspended = false;
        _failedMessage = null;
    }

    private void BeginRestart(Exception cause)
    {
        if (_state != Running)
        {
            return;
        }

        var failedMessage = _failedMessage;
        _failedMessage = null;
        if (_actor is { } old)
        {
            try
            {
                old.PreRestart(cause, failedMessage);
            }
            catch (Exception ex)
            {
                Log.LogError(ex, "PreRestart of {Path} threw; restarting anyway", Path);
            }
        }

        _actor = null;
        if (_stash is { Count: > 0 })
        {
            Prepend(_stash.TakeAll());
        }

        // Children stopped by PreRestart must be gone before the new instance may reuse their names.
        if (_stoppingChildren.Count == 0)
        {
            FinishRestart(cause);
        }
        else
        {
            _restartPendingCause = cause;
        }
    }

    private void FinishRestart(Exception cause)
    {
        _restartPendingCause = null;
        _suspended = false;
        CreateInstance(cause);
    }

    private void HandleChildFailure(Failed failed)
    {
        ActorCell[] children;
        lock (_children)
        {
            if (_state != Running || !_children.TryGetValue(failed.Child.Path.Name, out var known) || known != failed.Child)
            {
                return;
            }

            children = _children.Values.ToArray();
        }

        var strategy = _strategy ?? SupervisorStrategy.DefaultStrategy;
        Directive directive;
        try
        {
            directive = strategy.Decider(failed.Cause);
        }
        catch (Exception ex)
        {
            Log.LogError(ex, "Supervisor decider of {Path} threw; escalating", Path);
            directive = Directive.Escalate;
        }

        if (directive == Directive.Restart)
        {
            if (!_restartStats.TryGetValue(failed.Child, out var stats))
            {
                stats = new ChildRestartStats();
                _restartStats.Add(failed.Child, stats);
            }

            if (!strategy.RequestRestartPermission(stats))
            {
                Log.LogError(failed.Cause, "Child {Child} exceeded {Max} restarts within {Window}; stopping it", failed.Child.Path, strategy.MaxNrOfRetries, strategy.WithinTimeRange);
                directive = Directive.Stop;
            }
        }

        Log.LogError(failed.Cause, "Child {Child} failed; directive {Directive}", failed.Child.Path, directive);
        if (directive == Directive.Escalate)
        {
            HandleInvokeFailure(failed.Cause);
            return;
        }

        if (directive == Directive.Stop)
        {
            foreach (var child in strategy is AllForOneStrategy ? children : [failed.Child])
            {
                _stoppingChildren.Add(child);
            }
        }

        strategy.Apply(directive, failed.Child, failed.Cause, children);
    }

    private void HandleChildTerminated(ActorCell child)
    {
        int remaining;
        lock (_children)
        {
            if (_children.TryGetValue(child.Path.Name, out var known) && known == child)
            {
                _children.Remove(child.Path.Name);
            }

            remaining = _children.Count;
        }

        _restartStats.Remove(child);
        _stoppingChildren.Remove(child);
        if (_state == Terminating && remaining == 0)
        {
            FinishTerminate();
        }
        else if (_restartPendingCause is { } cause && _stoppingChildren.Count == 0)
        {
            FinishRestart(cause);
        }
    }

    private void HandleDeathWatchNotification(IInternalActorRef actor)
    {
        if (_watching?.Remove(actor) == true && _state == Running)
        {
            (_terminatedQueued ??= []).Add(actor);
            _user.Writer.TryWrite(new MessageEnvelope(new Terminated(actor), null));
        }
    }

    private void BeginStop()
    {
        ActorCell[] children;
        lock (_children)
        {
            if (_state != Running)
            {
                return;
            }

            _state = Terminating;
            children = _children.Values.ToArray();
        }

        if (children.Length == 0)
        {
            FinishTerminate();
            return;
        }

        foreach (var child in children)
        {
            child.SendSystemMessage(Actors.Stop.Instance);
        }
    }

    private void FinishTerminate()
    {
        _restartPendingCause = null;
        if (_actor is { } actor)
        {
            try
            {
                actor.PostStop();
            }
            catch (Exception ex)
            {
                Log.LogError(ex, "PostStop of {Path} threw; the actor is stopped regardless", Path);
            }
        }

        _actor = null;
        _state = Dead;
        _user.Writer.TryComplete();
        _system.Writer.TryComplete();

        if (_stash is not null)
        {
            Prepend(_stash.TakeAll());
        }

        while (TryDequeueUser(out var left))
        {
            if (left.Message is not Terminated)
            {
                System.DeadLetterSink.Publish(left.Message, left.Sender, this);
            }
        }

        while (_system.Reader.TryRead(out var late))
        {
            if (late is Watch watch)
            {
                (_watchers ??= []).Add(watch.Watcher);
            }
            else if (late is Unwatch unwatch)
            {
                _watchers?.Remove(unwatch.Watcher);
            }
        }

        if (_watchers is not null)
        {
            foreach (var watcher in _watchers)
            {
                watcher.SendSystemMessage(new DeathWatchNotification(this));
            }

            _watchers = null;
        }

        if (_watching is not null)
        {
            foreach (var watched in _watching)
            {
                watched.SendSystemMessage(new Unwatch(watched, this));
            }

            _watching = null;
        }

        _parent?.SendSystemMessage(new ChildTerminated(this));
        System.OnActorStopped();
        _terminated.TrySetResult();
    }

    private void CancelStoppingToken()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (AggregateException ex)
        {
            Log.LogError(ex, "A stop-token callback of {Path} threw", Path);
        }
    }
}
