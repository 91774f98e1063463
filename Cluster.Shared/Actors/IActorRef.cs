namespace ClusterQueue.Actors;

/// <summary>An address to send messages to; the only way to talk to an actor.</summary>
public interface IActorRef
{
    ActorPath Path { get; }

    /// <summary>Enqueues <paramref name="message"/> without waiting; <paramref name="sender"/> is who a reply goes to.</summary>
    void Tell(object message, IActorRef? sender);
}

/// <summary>A reference the kernel can also send system messages to (stop, watch, failure).</summary>
internal interface IInternalActorRef : IActorRef
{
    ActorSystem System { get; }

    void SendSystemMessage(SystemMessage message);
}

/// <summary>Well-known special references, as in Akka.</summary>
public static class ActorRefs
{
    /// <summary>Sender to use when nobody should get a reply; replies then go to dead letters.</summary>
    public static readonly IActorRef? NoSender;

    /// <summary>A reference that points at no actor and drops what it is told.</summary>
    public static readonly IActorRef Nobody = NobodyRef.Instance;
}

internal sealed class NobodyRef : IActorRef
{
    public static readonly NobodyRef Instance = new();

    public ActorPath Path { get; } = ActorPath.Root("nobody");

    public void Tell(object message, IActorRef? sender)
    {
    }

    public override string ToString() => "Nobody";
}

/// <summary>Tell and Ask shapes that Akka users expect on every <see cref="IActorRef"/>.</summary>
public static class ActorRefExtensions
{
    /// <summary>Tells without a sender.</summary>
    public static void Tell(this IActorRef receiver, object message) => receiver.Tell(message, ActorRefs.NoSender);

    /// <summary>
    /// Sends <paramref name="message"/> and awaits one reply of type <typeparamref name="T"/>.
    /// A <see cref="Status.Failure"/> reply is rethrown; no reply within <paramref name="timeout"/> throws <see cref="AskTimeoutException"/>.
    /// </summary>
    public static Task<T> Ask<T>(this IActorRef receiver, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "Ask timeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        return PromiseActorRef.AskAsync<T>(receiver, message, timeout, cancellationToken);
    }
}
