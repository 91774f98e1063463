namespace ClusterQueue.Actors;

/// <summary>A user message that stops the receiving actor once the messages before it are handled.</summary>
public sealed class PoisonPill
{
    public static readonly PoisonPill Instance = new();

    private PoisonPill()
    {
    }
}

/// <summary>Sent once to each watcher when a watched actor has stopped.</summary>
public sealed class Terminated
{
    internal Terminated(IActorRef actorRef) => ActorRef = actorRef;

    public IActorRef ActorRef { get; }

    public override string ToString() => $"Terminated({ActorRef.Path})";
}

/// <summary>Replies that carry success or failure, as Akka's <c>Status</c>; Ask rethrows a failure.</summary>
public static class Status
{
    /// <summary>A successful reply, optionally carrying a value.</summary>
    public sealed record Success(object? Value);

    /// <summary>A failed reply; <see cref="ActorRefExtensions.Ask{T}"/> throws its <see cref="Cause"/>.</summary>
    public sealed record Failure(Exception Cause);
}

/// <summary>A message that could not be delivered, published on the event stream.</summary>
public sealed record DeadLetter(object Message, IActorRef? Sender, IActorRef Recipient);

/// <summary>A message no handler matched, published on the event stream.</summary>
public sealed record UnhandledMessage(object Message, IActorRef? Sender, IActorRef Recipient);
