using Microsoft.Extensions.Logging;

namespace ClusterQueue.Actors;

/// <summary>The base of every actor: lifecycle hooks and access to its context. Derive from <see cref="ReceiveActor"/>.</summary>
public abstract class ActorBase
{
    private readonly ActorCell _cell;
    private ILogger? _log;

    private protected ActorBase()
    {
        _cell = ActorCell.Constructing
            ?? throw new InvalidOperationException($"{GetType().Name} must be created through ActorOf(Props), not with 'new'.");
    }

    protected IActorContext Context => _cell;

    internal ActorCell Cell => _cell;

    protected IActorRef Self => _cell;

    protected IActorRef Sender => _cell.Sender;

    protected ILogger Log => _log ??= _cell.System.LoggerFactory.CreateLogger(GetType());

    /// <summary>Strategy for this actor's children when its Props do not set one.</summary>
    protected internal virtual SupervisorStrategy SupervisorStrategy() => Actors.SupervisorStrategy.DefaultStrategy;

    protected internal virtual void PreStart()
    {
    }

    protected internal virtual void PostStop()
    {
    }

    /// <summary>Runs on the failed instance; by default stops the children and runs PostStop.</summary>
    protected internal virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.Children)
        {
            Context.Stop(child);
        }

        PostStop();
    }

    /// <summary>Runs on the fresh instance; by default runs PreStart.</summary>
    protected internal virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>Called for a message no handler took: publishes <see cref="UnhandledMessage"/>, or fails for an unhandled <see cref="Terminated"/>.</summary>
    protected virtual void Unhandled(object message)
    {
        if (message is Terminated terminated)
        {
            throw new DeathPactException(terminated.ActorRef);
        }

        _cell.System.PublishUnhandled(new UnhandledMessage(message, _cell.CurrentEnvelope?.Sender, _cell));
    }

    /// <summary>Handles one message; a non-null task keeps the mailbox waiting until it completes.</summary>
    internal abstract Task? Dispatch(object message);

    internal void InvokeUnhandled(object message) => Unhandled(message);
}
