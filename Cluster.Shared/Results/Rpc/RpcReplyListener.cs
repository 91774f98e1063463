using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Results.Rpc;

/// <summary>Declares and consumes one reply queue, and consumes it again with backoff when the broker connection drops.</summary>
internal sealed class RpcReplyListener(ITransport transport, string queue, TimeSpan expires, Action<Delivery> onReply, ILogger logger)
    : IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim startGate = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    /// <summary>Starts listening once; a failed start is retried by the next call.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref loop) is not null)
        {
            return;
        }

        await startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, this);
            if (loop is null)
            {
                var consumer = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref loop, Task.Run(() => ListenAsync(consumer, stopping.Token)));
            }
        }
        finally
        {
            startGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        stopping.Dispose();
    }

    private async Task<IQueueConsumer> SubscribeAsync(CancellationToken cancellationToken)
    {
        // Celery's reply queue: non-durable, deleted with its last consumer, and gone a result-expiry after its last use.
        await transport.DeclareQueueAsync(
            new QueueDeclaration(queue, Durable: false, AutoDelete: true, Arguments: new Dictionary<string, object?>
            {
                ["x-expires"] = (long)expires.TotalMilliseconds,
            }),
            cancellationToken).ConfigureAwait(false);
        return await transport.ConsumeAsync(queue, new ConsumeOptions(NoAck: true), cancellationToken).ConfigureAwait(false);
    }

    private async Task ListenAsync(IQueueConsumer consumer, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.Zero;
        while (true)
        {
            try
            {
                await foreach (var delivery in consumer.Deliveries.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    backoff = TimeSpan.Zero;
                    onReply(delivery);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await consumer.DisposeAsync().ConfigureAwait(false);
                return;
            }
            catch (TransportException e)
            {
                logger.LogWarning(e, "Lost the consumer of reply queue {Queue}; consuming it again", queue);
            }

            await consumer.DisposeAsync().ConfigureAwait(false);
            consumer = await ResubscribeAsync(cancellationToken, backoff).ConfigureAwait(false) ?? consumer;
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            backoff = Next(backoff);
        }
    }

    private async Task<IQueueConsumer?> ResubscribeAsync(CancellationToken cancellationToken, TimeSpan backoff)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                return await SubscribeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (TransportException e)
            {
                logger.LogWarning(e, "Cannot consume reply queue {Queue} yet; retrying", queue);
                backoff = Next(backoff);
            }
        }

        return null;
    }

    private static TimeSpan Next(TimeSpan backoff) =>
        backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
}
