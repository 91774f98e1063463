using System.Collections.Concurrent;
using ClusterQueue.Protocol;
using ClusterQueue.Transport.Routing;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Transport.Virtual;

/// <summary>The kombu model over a message store: routing through the virtual routing table, TTL, dead-lettering, priorities and delayed delivery.</summary>
/// <remarks>Delivery is at least once: a message is deleted only when acked, and a lease that is not renewed runs out.</remarks>
internal sealed class VirtualTransport : ITransport
{
    private readonly IMessageStore store;
    private readonly BrokerSettings settings;
    private readonly TimeProvider clock;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<VirtualConsumer, byte> consumers = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task expiryLoop;
    private long unroutable;
    private long droppedDeadLetters;
    private int disposed;

    public VirtualTransport(IMessageStore store, BrokerSettings settings, ILogger logger, TimeProvider? clock = null)
    {
        this.store = store;
        this.settings = settings;
        this.logger = logger;
        this.clock = clock ?? TimeProvider.System;
        expiryLoop = Task.Run(() => ExpireLoopAsync(stopping.Token));
    }

    /// <summary>Messages published that matched no queue and were dropped, as AMQP does without the mandatory flag.</summary>
    public long UnroutableCount => Interlocked.Read(ref unroutable);

    /// <summary>Messages rejected or expired on a queue without a usable dead-letter exchange, and so dropped.</summary>
    public long DroppedDeadLetterCount => Interlocked.Read(ref droppedDeadLetters);

    internal IMessageStore Store => store;

    internal BrokerSettings Settings => settings;

    internal long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default) =>
        store.DeclareExchangeAsync(exchange, cancellationToken);

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default) =>
        store.DeclareQueueAsync(queue, cancellationToken);

    public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default) =>
        store.BindAsync(binding, cancellationToken);

    public async ValueTask PublishAsync(
        string exchange,
        string routingKey,
        Envelope message,
        PublishOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        FieldValues.Validate(message.Headers);
        var messageTtl = MessageTiming.ParseExpiration(message.Properties.Expiration);
        var table = await store.TopologyAsync(cancellationToken).ConfigureAwait(false);
        var targets = table.Route(exchange, routingKey, message.Headers);
        if (targets.Count == 0)
        {
            Interlocked.Increment(ref unroutable);
            logger.LogWarning("Dropped an unroutable message: exchange '{Exchange}', routing key '{RoutingKey}'", exchange, routingKey);
            return;
        }

        var now = NowMs;
        var visibleAt = options?.NotBefore is { } notBefore ? Math.Max(now, MessageTiming.CeilingMilliseconds(notBefore)) : now;
        var messages = new NewMessage[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var arguments = table.GetQueue(targets[i]).Arguments;
            messages[i] = new NewMessage(
                targets[i], message, exchange, routingKey,
                arguments.EffectivePriority(message.Properties.Priority),
                visibleAt,
                MessageTiming.ExpiresAt(visibleAt, messageTtl, arguments.MessageTtl));
        }

        await store.EnqueueAsync(messages, cancellationToken).ConfigureAwait(false);
        foreach (var target in targets)
        {
            store.Signals.Pulse(target);
        }
    }

    public async ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (options.Prefetch < 0)
        {
            throw new PreconditionFailedException($"queue '{queue}': prefetch must be 0 (no limit) or more, got {options.Prefetch}");
        }

        var table = await store.TopologyAsync(cancellationToken).ConfigureAwait(false);
        table.GetQueue(queue);
        var consumer = new VirtualConsumer(this, queue, options);
        consumers[consumer] = 0;
        consumer.Start();
        return consumer;
    }

    public async ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        var table = await store.TopologyAsync(cancellationToken).ConfigureAwait(false);
        table.GetQueue(queue);
        return await store.PurgeAsync(queue, NowMs, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        store.DeleteQueueAsync(queue, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        foreach (var consumer in consumers.Keys)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await expiryLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await store.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    internal void Forget(VirtualConsumer consumer) => consumers.TryRemove(consumer, out _);

    /// <summary>The dead-letter copies of a rejected or expired message; counts the ones dropped for want of a dead-letter exchange.</summary>
    internal IReadOnlyList<NewMessage> DeadLetterCopies(VirtualRoutingTable table, StoredMessage message, string reason, string? detail)
    {
        var copies = DeadLettering.Copies(table, message, reason, detail, NowMs);
        if (copies.Count == 0)
        {
            Interlocked.Increment(ref droppedDeadLetters);
        }

        return copies;
    }

    internal void PulseAll(IReadOnlyList<NewMessage> messages)
    {
        foreach (var message in messages)
        {
            store.Signals.Pulse(message.Queue);
        }
    }

    /// <summary>Dead-letters expired messages even on queues nobody consumes, as RabbitMQ does.</summary>
    private async Task ExpireLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var table = await store.TopologyAsync(cancellationToken).ConfigureAwait(false);
                var moved = new List<NewMessage>();
                var expired = await store.ExpireAsync(
                    NowMs,
                    message =>
                    {
                        var copies = DeadLetterCopies(table, message, "expired", null);
                        moved.AddRange(copies);
                        return copies;
                    },
                    cancellationToken).ConfigureAwait(false);
                PulseAll(moved);
                if (expired > 0)
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Consumers report store failures; this loop only retries at the next tick.
                logger.LogWarning(e, "Expiring messages failed");
            }

            await Task.Delay(settings.PollingInterval, clock, cancellationToken).ConfigureAwait(false);
        }
    }
}
