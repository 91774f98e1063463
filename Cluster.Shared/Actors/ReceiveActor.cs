namespace ClusterQueue.Actors;

/// <summary>An actor that declares typed handlers with Receive&lt;T&gt;, as in Akka.NET.</summary>
public abstract class ReceiveActor : ActorBase
{
    private readonly Stack<List<Handler>> _behaviours = new();
    private List<Handler>? _configuring;

    protected ReceiveActor()
    {
        _configuring = [];
        _behaviours.Push(_configuring);
    }

    protected void Receive<T>(Action<T> handler) => Receive(null, handler);

    protected void Receive<T>(Predicate<T>? predicate, Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new SyncHandler<T>(predicate, handler));
    }

    /// <summary>An async handler: the actor takes no other message until the task completes.</summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler, Predicate<T>? predicate = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new AsyncHandler<T>(predicate, handler));
    }

    protected void ReceiveAny(Action<object> handler) => Receive<object>(null, handler);

    /// <summary>Replaces the current behaviour with the handlers that <paramref name="configure"/> declares.</summary>
    protected void Become(Action configure)
    {
        var handlers = Configure(configure);
        var replaced = _behaviours.Pop();
        _behaviours.Push(handlers);
        if (ReferenceEquals(_configuring, replaced))
        {
            // Become inside the constructor: later Receive calls there must extend the new behaviour, not the discarded one.
            _configuring = handlers;
        }
    }

    /// <summary>Pushes a behaviour; <see cref="UnbecomeStacked"/> returns to the one before.</summary>
    protected void BecomeStacked(Action configure) => _behaviours.Push(Configure(configure));

    /// <summary>Pops the behaviour pushed last; the constructor's behaviour is never popped.</summary>
    protected void UnbecomeStacked()
    {
        if (_behaviours.Count > 1)
        {
            _behaviours.Pop();
        }
    }

    internal void MarkConstructed()
    {
        _configuring = null;
    }

    internal override Task? Dispatch(object message)
    {
        foreach (var handler in _behaviours.Peek())
        {
            if (handler.TryHandle(message, out var pending))
            {
                return pending;
            }
        }

        InvokeUnhandled(message);
        return null;
    }

    private List<Handler> Configure(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var previous = _configuring;
        _configuring = [];
        try
        {
            configure();
            return _configuring;
        }
        finally
        {
            _configuring = previous;
        }
    }

    private void Add(Handler handler)
    {
        if (_configuring is null)
        {
            throw new InvalidOperationException(
                $"{GetType().Name}: Receive handlers are declared in the constructor or inside Become/BecomeStacked.");
        }

        _configuring.Add(handler);
    }

    private abstract class Handler
    {
        public abstract bool TryHandle(object message, out Task? pending);
    }

    private sealed class SyncHandler<T>(Predicate<T>? predicate, Action<T> action) : Handler
    {
        public override bool TryHandle(object message, out Task? pending)
        {
            pending = null;
            if (message is not T typed || (predicate is not null && !predicate(typed)))
            {
                return false;
            }

            action(typed);
            return true;
        }
    }

    private sealed class AsyncHandler<T>(Predicate<T>? predicate, Func<T, Task> action) : Handler
    {
        public override bool TryHandle(object message, out Task? pending)
        {
            pending = null;
            if (message is not T typed || (predicate is not null && !predicate(typed)))
            {
                return false;
            }

            pending = action(typed);
            return true;
        }
    }
}
