namespace ClusterQueue.Actors;

/// <summary>Kernel traffic that overtakes user messages: lifecycle, supervision and death watch.</summary>
internal abstract class SystemMessage;

internal sealed class Create : SystemMessage
{
    public static readonly Create Instance = new();
}

internal sealed class Stop : SystemMessage
{
    public static readonly Stop Instance = new();
}

internal sealed class Resume : SystemMessage
{
    public static readonly Resume Instance = new();
}

internal sealed class Recreate(Exception cause) : SystemMessage
{
    public Exception Cause { get; } = cause;
}

internal sealed class Failed(ActorCell child, Exception cause) : SystemMessage
{
    public ActorCell Child { get; } = child;

    public Exception Cause { get; } = cause;
}

internal sealed class ChildTerminated(ActorCell child) : SystemMessage
{
    public ActorCell Child { get; } = child;
}

internal sealed class Watch(IInternalActorRef watchee, IInternalActorRef watcher) : SystemMessage
{
    public IInternalActorRef Watchee { get; } = watchee;

    public IInternalActorRef Watcher { get; } = watcher;
}

internal sealed class Unwatch(IInternalActorRef watchee, IInternalActorRef watcher) : SystemMessage
{
    public IInternalActorRef Watchee { get; } = watchee;

    public IInternalActorRef Watcher { get; } = watcher;
}

internal sealed class DeathWatchNotification(IInternalActorRef actor) : SystemMessage
{
    public IInternalActorRef Actor { get; } = actor;
}
