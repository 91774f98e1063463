using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// One broker consumer of one queue and the deliveries it still holds. Acks and rejects go through the lease that
/// delivered the message: after a consumer is replaced, its old deliveries belong to the broker again.
/// </summary>
internal sealed class QueueLease(IQueueConsumer consumer, int basePrefetch, ILogger log)
{
    private int _held;
    private int _etaHeld;
    private int _closed;
    private readonly Lock _gate = new();
    private Task? _closing;

    public IQueueConsumer Consumer { get; } = consumer;

    public string Queue => Consumer.Queue;

    /// <summary>Deliveries taken and not yet acked or rejected.</summary>
    public int Held => Volatile.Read(ref _held);

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Raised after every ack or reject, so fair mode can open the window again.</summary>
    public event Action? Settled;

    public void OnDelivered() => Interlocked.Increment(ref _held);

    public async Task<bool> AckAsync(Delivery delivery) => await SettleAsync(delivery, c => c.AckAsync(delivery)).ConfigureAwait(false);

    public async Task<bool> RejectAsync(Delivery delivery, bool requeue, string? reason = null) =>
        await SettleAsync(delivery, c => c.RejectAsync(delivery, requeue, reason)).ConfigureAwait(false);

    /// <summary>Celery raises the prefetch by one for each held ETA task, so held tasks do not starve the window.</summary>
    public Task HoldEtaAsync() => AdjustEtaAsync(+1);

    public Task ReleaseEtaAsync() => AdjustEtaAsync(-1);

    public Task SetPrefetchAsync(int prefetch) => Guard(() => Consumer.SetPrefetchAsync(prefetch));

    /// <summary>Gives the broker back everything still held, as a closed AMQP channel does; every call awaits the same close.</summary>
    public Task CloseAsync()
    {
        lock (_gate)
        {
            if (_closing is null)
            {
                Volatile.Write(ref _closed, 1);
                _closing = CloseConsumerAsync();
            }

            return _closing;
        }
    }

    private async Task CloseConsumerAsync()
    {
        try
        {
            await Consumer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Closing the consumer of {Queue} failed; its unacked messages come back after the visibility timeout", Queue);
        }
    }

    private async Task AdjustEtaAsync(int change)
    {
        var held = Interlocked.Add(ref _etaHeld, change);
        if (basePrefetch > 0)
        {
            await SetPrefetchAsync(basePrefetch + held).ConfigureAwait(false);
        }
    }

    private async Task<bool> SettleAsync(Delivery delivery, Func<IQueueConsumer, ValueTask> settle)
    {
        if (IsClosed)
        {
            return false;
        }

        try
        {
            await settle(Consumer).ConfigureAwait(false);
            Interlocked.Decrement(ref _held);
            Settled?.Invoke();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever the broker's error, it redelivers an unsettled message, so at-least-once still holds; failing the
            // executor here would only lose its slot.
            log.LogWarning(e, "Could not settle delivery {Tag} on {Queue}; the broker will deliver it again", delivery.DeliveryTag, Queue);
            return false;
        }
    }

    private async Task Guard(Func<ValueTask> action)
    {
        if (IsClosed)
        {
            return;
        }

        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is TransportException or ObjectDisposedException)
        {
            log.LogWarning(e, "Changing the prefetch of {Queue} failed", Queue);
        }
    }
}
