using ClusterQueue.Transport.Routing;

namespace ClusterQueue.Transport.Virtual;

/// <summary>Where a virtual transport keeps topology and messages. Times are Unix milliseconds.</summary>
/// <remarks>
/// A message is visible when its visible-at time has passed. Taking a message leases it to a consumer by pushing
/// visible-at to the lease deadline, so a message whose consumer vanished reappears on its own.
/// </remarks>
internal interface IMessageStore : IAsyncDisposable
{
    /// <summary>Wakes consumers of a queue in this process when something was put on it.</summary>
    QueueSignals Signals { get; }

    /// <summary>The current routing table; a shared store reloads it when another process changed the topology.</summary>
    ValueTask<VirtualRoutingTable> TopologyAsync(CancellationToken cancellationToken);

    ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken);

    ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken);

    ValueTask BindAsync(QueueBinding binding, CancellationToken cancellationToken);

    ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken);

    ValueTask EnqueueAsync(IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> visible, unexpired messages, highest priority first and FIFO within one priority.
    /// With <paramref name="remove"/> they are deleted at once instead of leased (no-ack consumers).
    /// </summary>
    ValueTask<IReadOnlyList<StoredMessage>> TakeAsync(
        string queue, string consumerId, int max, long nowMs, long leaseUntilMs, bool remove, CancellationToken cancellationToken);

    /// <summary>Extends the leases a consumer still holds.</summary>
    ValueTask RenewAsync(string consumerId, IReadOnlyCollection<long> ids, long leaseUntilMs, CancellationToken cancellationToken);

    /// <summary>Deletes a leased message and puts its replacements (dead-letter copies) in one step; false when the lease was lost.</summary>
    ValueTask<bool> SettleAsync(long id, string consumerId, IReadOnlyList<NewMessage> replacements, CancellationToken cancellationToken);

    /// <summary>Makes leased messages visible again at once; they count as redelivered.</summary>
    ValueTask ReleaseAsync(IReadOnlyCollection<long> ids, string consumerId, CancellationToken cancellationToken);

    /// <summary>Deletes every message of a queue that no consumer holds, delayed ones included.</summary>
    ValueTask<long> PurgeAsync(string queue, long nowMs, CancellationToken cancellationToken);

    /// <summary>Replaces every expired message no consumer holds by its dead-letter copies, in one step; returns how many expired.</summary>
    ValueTask<int> ExpireAsync(long nowMs, Func<StoredMessage, IReadOnlyList<NewMessage>> deadLetter, CancellationToken cancellationToken);
}
