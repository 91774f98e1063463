namespace ClusterQueue.Actors;

/// <summary>Thrown by Ask when no reply arrived in time; names the target and the timeout.</summary>
public sealed class AskTimeoutException : TimeoutException
{
    public AskTimeoutException(ActorPath target, TimeSpan timeout, Type messageType)
        : base($"Ask to {target} timed out after {timeout} waiting for a reply to {messageType.Name}.")
    {
        Target = target;
        Timeout = timeout;
    }

    public ActorPath Target { get; }

    public TimeSpan Timeout { get; }
}

/// <summary>Thrown when an actor name is empty, malformed or already taken by a sibling.</summary>
public sealed class InvalidActorNameException(string message) : ArgumentException(message);

/// <summary>An actor's constructor, PreStart or PostRestart threw; the default strategy stops such an actor.</summary>
public sealed class ActorInitializationException(ActorPath actor, Exception inner)
    : Exception($"Actor {actor} failed to start: {inner.Message}", inner)
{
    public ActorPath Actor { get; } = actor;
}

/// <summary>A watched actor stopped and the watcher had no handler for <see cref="Terminated"/>.</summary>
public sealed class DeathPactException(IActorRef dead)
    : Exception($"Watched actor {dead.Path} terminated and the watcher does not handle Terminated.")
{
    public IActorRef DeadActor { get; } = dead;
}

/// <summary>Thrown when actors are created on a system that has been terminated.</summary>
public sealed class ActorSystemTerminatedException(string systemName, string what)
    : InvalidOperationException($"Actor system '{systemName}' is terminating or terminated; cannot {what}.");
