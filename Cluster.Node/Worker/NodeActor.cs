using Akka.Actor;
using Akka.Dispatch;

namespace ClusterQueue.Node.Worker;

/// <summary>A receive actor whose asynchronous handlers usually finish without waiting.</summary>
internal abstract class NodeActor : ReceiveActor
{
    /// <summary>
    /// Runs an asynchronous handler inline. Only when it really waits is the mailbox suspended until it finishes, as
    /// <c>ReceiveAsync</c> does for every message. <c>ReceiveAsync</c> costs a task-scheduler round trip and a mailbox
    /// resume per message even when the handler never waits, which was most of a delivery's cost in the drain benchmark.
    /// </summary>
    /// <remarks>
    /// The handler runs outside the actor's task scheduler, so after its first real await it must not use
    /// <c>Context</c>, <c>Self</c> or <c>Sender</c>: take them into locals (or <see cref="SelfRef"/>) before.
    /// The mailbox stays suspended meanwhile, so the handler still has the actor's state to itself.
    /// </remarks>
    protected void ReceiveInline<T>(Func<T, Task> handler, Predicate<T>? shouldHandle = null)
    {
        Receive<T>(
            message =>
            {
                var handling = handler(message);
                if (!handling.IsCompletedSuccessfully)
                {
                    ActorTaskScheduler.RunTask(() => handling);
                }
            },
            shouldHandle);
    }

    protected NodeActor() => SelfRef = Self;

    /// <summary>This actor's own reference, readable after an await where <c>Self</c> is not.</summary>
    protected IActorRef SelfRef { get; }
}
