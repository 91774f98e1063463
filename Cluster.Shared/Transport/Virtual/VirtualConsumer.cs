using System.Threading.Channels;

namespace ClusterQueue.Transport.Virtual;

/// <summary>One consumer on one queue of a virtual transport: takes messages within the prefetch window, renews their leases, settles them.</summary>
internal sealed class VirtualConsumer : IQueueConsumer
{
    /// <summary>Caps one take from the store, so a no-limit consumer does not drain a large queue in one statement.</summary>
    private const int MaxBatch = 256;

    private readonly VirtualTransport transport;
    private readonly ConsumeOptions options;
    private readonly string consumerId = Guid.NewGuid().ToString("N");
    private readonly Lock gate = new();
    private readonly Dictionary<ulong, Delivery> held = [];
    private readonly QueueSignals.Signal windowChanged = new();
    private readonly CancellationTokenSource stopping = new();

    // Several readers may share one consumer; the loop is its only writer. Continuations are
    // not run inline so a slow reader never stalls the loop that also renews leases.
    private readonly Channel<Delivery> deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        SingleReader = false,
        AllowSynchronousContinuations = false,
    });

    private Task loop = Task.CompletedTask;
    private Task pollTick = Task.CompletedTask;
    private int prefetch;
    private int disposed;

    public VirtualConsumer(VirtualTransport transport, string queue, ConsumeOptions options)
    {
        this.transport = transport;
        this.options = options;
        Queue = queue;
        prefetch = options.Prefetch;
    }

    public string Queue { get; }

    public ChannelReader<Delivery> Deliveries => deliveries.Reader;

    public void Start() => loop = Task.Run(() => RunAsync(stopping.Token));

    public ValueTask SetPrefetchAsync(int prefetch, CancellationToken cancellationToken = default)
    {
        if (prefetch < 0)
        {
            throw new PreconditionFailedException($"queue '{Queue}': prefetch must be 0 (no limit) or more, got {prefetch}");
        }

        Volatile.Write(ref this.prefetch, prefetch);
        windowChanged.Pulse();
        return ValueTask.CompletedTask;
    }

    public async ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default)
    {
        Release(delivery);
        await transport.Store.SettleAsync((long)delivery.DeliveryTag, consumerId, [], cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default)
    {
        Release(delivery);
        var id = (long)delivery.DeliveryTag;
        if (requeue)
        {
            await transport.Store.ReleaseAsync([id], consumerId, cancellationToken).ConfigureAwait(false);
            transport.Store.Signals.Pulse(Queue);
            return;
        }

        var table = await transport.Store.TopologyAsync(cancellationToken).ConfigureAwait(false);
        var message = new StoredMessage(id, Queue, delivery.Message, delivery.Exchange, delivery.RoutingKey, delivery.Redelivered);
        var copies = transport.DeadLetterCopies(table, message, "rejected", reason);
        await transport.Store.SettleAsync(id, consumerId, copies, cancellationToken).ConfigureAwait(false);
        transport.PulseAll(copies);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        long[] unacked;
        lock (gate)
        {
            unacked = held.Keys.Select(tag => (long)tag).ToArray();
            held.Clear();
        }

        // As when an AMQP channel closes: whatever was delivered and not acked goes back to the queue.
        if (unacked.Length > 0)
        {
            try
            {
                await transport.Store.ReleaseAsync(unacked, consumerId, CancellationToken.None).ConfigureAwait(false);
                transport.Store.Signals.Pulse(Queue);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The leases run out on their own after the visibility timeout.
            }
        }

        deliveries.Writer.TryComplete();
        transport.Forget(this);
        stopping.Dispose();
    }

    private void Release(Delivery delivery)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        lock (gate)
        {
            if (delivery.Queue != Queue || !held.Remove(delivery.DeliveryTag))
            {
                throw new PreconditionFailedException(
                    $"unknown delivery tag {delivery.DeliveryTag} on queue '{Queue}': not delivered to this consumer, or already acked or rejected");
            }
        }

        windowChanged.Pulse();
    }

    private int Room()
    {
        var window = Volatile.Read(ref prefetch);
        if (options.NoAck || window == 0)
        {
            return MaxBatch;
        }

        lock (gate)
        {
            return Math.Min(MaxBatch, window - held.Count);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var store = transport.Store;
        var settings = transport.Settings;
        var renewEvery = TimeSpan.FromTicks(settings.VisibilityTimeout.Ticks / 3);
        var nextRenewal = transport.NowMs + (long)renewEvery.TotalMilliseconds;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var published = store.Signals.Watch(Queue);
                var settled = windowChanged.Watch();
                var now = transport.NowMs;
                if (now >= nextRenewal)
                {
                    await RenewAsync(now, cancellationToken).ConfigureAwait(false);
                    nextRenewal = now + (long)renewEvery.TotalMilliseconds;
                }

                var room = Room();
                if (room <= 0)
                {
                    await Task.WhenAny(settled, Poll(settings.PollingInterval, cancellationToken)).ConfigureAwait(false);
                    continue;
                }

                var taken = await store.TakeAsync(
                    Queue, consumerId, room, now, now + (long)settings.VisibilityTimeout.TotalMilliseconds, options.NoAck, cancellationToken)
                    .ConfigureAwait(false);
                foreach (var message in taken)
                {
                    var delivery = new Delivery(message.Message, message.Exchange, message.RoutingKey, Queue, (ulong)message.Id, message.Redelivered);
                    if (!options.NoAck)
                    {
                        lock (gate)
                        {
                            held.Add(delivery.DeliveryTag, delivery);
                        }
                    }

                    deliveries.Writer.TryWrite(delivery);
                }

                if (taken.Count == 0)
                {
                    await Task.WhenAny(published, Poll(settings.PollingInterval, cancellationToken)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            deliveries.Writer.TryComplete(new TransportException($"consumer of queue '{Queue}' stopped: the message store failed: {e.Message}", e));
        }
    }

    /// <summary>
    /// The polling tick: one delay shared by every wait until it elapses. A full window wakes the loop at every ack, and
    /// a new delay per wake left thousands of pending timers behind under load (a visible share of a worker's CPU).
    /// </summary>
    private Task Poll(TimeSpan interval, CancellationToken cancellationToken)
    {
        if (pollTick.IsCompleted)
        {
            pollTick = Task.Delay(interval, cancellationToken);
        }

        return pollTick;
    }

    private async Task RenewAsync(long now, CancellationToken cancellationToken)
    {
        long[] ids;
        lock (gate)
        {
            ids = held.Keys.Select(tag => (long)tag).ToArray();
        }

        if (ids.Length > 0)
        {
            await transport.Store.RenewAsync(consumerId, ids, now + (long)transport.Settings.VisibilityTimeout.TotalMilliseconds, cancellationToken)
                .ConfigureAwait(false);
        }

    }
}
