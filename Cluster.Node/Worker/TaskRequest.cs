using ClusterQueue.Client;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Node.Worker;

/// <summary>One decoded task message on its way through the node, settled (acked or rejected) exactly once.</summary>
internal sealed class TaskRequest(TaskMessage message, TaskDefinition definition, Delivery delivery, QueueLease lease, bool acksLate)
{
    private int _settled;

    public TaskMessage Message { get; } = message;

    public TaskDefinition Definition { get; } = definition;

    public Delivery Delivery { get; } = delivery;

    public QueueLease Lease { get; } = lease;

    public bool AcksLate { get; } = acksLate;

    public string Id => Message.Id;

    public string Name => Message.Task;

    /// <summary>Set once the rate limiter has given this request its start time, so a delayed request is not charged twice.</summary>
    public bool RateLimitApplied { get; set; }

    /// <summary>When an executor started it; null while reserved or scheduled.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    public Task<bool> AckAsync() => TrySettle() ? Lease.AckAsync(Delivery) : Task.FromResult(false);

    /// <summary>Puts the message back on its queue for this or another node.</summary>
    public Task<bool> RequeueAsync() => TrySettle() ? Lease.RejectAsync(Delivery, requeue: true) : Task.FromResult(false);

    private bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;
}
