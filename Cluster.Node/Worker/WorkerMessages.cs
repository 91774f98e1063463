using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>A decoded request for the pool: start it when a slot is free (after its rate-limit token).</summary>
internal sealed record Reserve(TaskRequest Request);

/// <summary>Pool to executor: run this request now.</summary>
internal sealed record Execute(TaskRequest Request);

/// <summary>Executor to pool: the slot is free again, or (<paramref name="Retire"/>) must be replaced.</summary>
internal sealed record ExecutorDone(IActorRef Executor, bool Retire);

/// <summary>A consumer asks the pool for its capacity updates (fair mode).</summary>
internal sealed record RegisterConsumer(IActorRef Consumer);

/// <summary>Pool to consumers in fair mode: slots that could start a task now and have nothing reserved for them.</summary>
internal sealed record PoolCapacity(int Free);

/// <summary>Stop taking requests, give the reserved ones back to the broker; the reply is <see cref="Drained"/>.</summary>
internal sealed class DrainReserved
{
    public static readonly DrainReserved Instance = new();
}

/// <summary>How many requests went back to the broker; <paramref name="Idle"/> completes when no executor is busy.</summary>
internal sealed record Drained(int Requeued, Task Idle);

/// <summary>Keep a request until <paramref name="Due"/>, then tell <paramref name="Target"/> a <see cref="Reserve"/>.</summary>
/// <param name="EtaHeld">An ETA hold raised its consumer's prefetch, which is lowered again on release.</param>
internal sealed record Hold(TaskRequest Request, DateTimeOffset Due, bool EtaHeld, IActorRef Target);

/// <summary>Give every held request back to the broker and hold no more; the reply is <see cref="Drained"/>.</summary>
internal sealed class ReleaseHeld
{
    public static readonly ReleaseHeld Instance = new();
}

/// <summary>Asks the node supervisor for its children; the reply is <see cref="NodeChildren"/>.</summary>
internal sealed class GetNodeChildren
{
    public static readonly GetNodeChildren Instance = new();
}

internal sealed record NodeChildren(IActorRef Pool, IActorRef Timers, IReadOnlyList<IActorRef> Consumers);

/// <summary>Stop reading deliveries; the reply <see cref="ConsumerStopped"/> means no hand-off is in flight any more.</summary>
internal sealed class StopConsuming
{
    public static readonly StopConsuming Instance = new();
}

internal sealed class ConsumerStopped
{
    public static readonly ConsumerStopped Instance = new();
}

/// <summary>Grow (positive) or shrink (negative) the pool by <paramref name="Delta"/> slots; the reply is <see cref="PoolResized"/>.</summary>
internal sealed record ResizePool(int Delta);

/// <summary>The pool's size once the resize took effect; busy slots leave as they finish.</summary>
internal sealed record PoolResized(int Size);

/// <summary>The <c>autoscale</c> command: move the autoscaler's range (a null bound stays); the reply is <see cref="AutoscaleState"/>.</summary>
internal sealed record UpdateAutoscale(int? Max, int? Min);

/// <summary>Asks the pool for its autoscaler's state; the reply is <see cref="AutoscaleState"/>.</summary>
internal sealed class GetAutoscaleState
{
    public static readonly GetAutoscaleState Instance = new();
}

/// <summary>Celery's <c>Autoscaler.info()</c>: the range, the pool's size now and the requests it holds.</summary>
internal sealed record AutoscaleState(int Max, int Min, int Current, int Qty);

/// <summary>Start consuming <paramref name="Queue"/> at run time; the reply is <see cref="QueuesChanged"/>.</summary>
internal sealed record AddQueue(string Queue);

/// <summary>Stop consuming <paramref name="Queue"/>; what its consumer held goes back to the broker. The reply is <see cref="QueuesChanged"/>.</summary>
internal sealed record CancelQueue(string Queue);

/// <summary>Asks the node supervisor for the queues it consumes; the reply is <see cref="QueuesChanged"/> with Changed false.</summary>
internal sealed class GetQueues
{
    public static readonly GetQueues Instance = new();
}

/// <summary>The queues consumed now, and whether the request changed them.</summary>
internal sealed record QueuesChanged(bool Changed, IReadOnlyList<string> Queues);

/// <summary>An executor's slot can no longer run tasks (its prefork child exited).</summary>
internal sealed record SlotLost(IActorRef Executor);

/// <summary>Autoreload loaded a new version of the task assembly: idle slots with older code are replaced.</summary>
internal sealed record TaskCodeReloaded
{
    public static readonly TaskCodeReloaded Instance = new();
}
