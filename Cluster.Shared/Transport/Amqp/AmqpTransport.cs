using System.Collections.Concurrent;
using ClusterQueue.Protocol;
using ClusterQueue.Transport.Routing;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace ClusterQueue.Transport.Amqp;

/// <summary>The RabbitMQ transport (<c>amqp://</c>, <c>amqps://</c>): one connection per transport, a channel per consumer.</summary>
/// <remarks>
/// <para>
/// Connection loss: RabbitMQ.Client's automatic recovery is off. When the connection drops, every consumer's
/// deliveries fault with <see cref="TransportException"/> so that its supervisor restarts it, and the broker puts
/// their unacked messages back. The next operation opens a new connection; while the broker stays unreachable,
/// attempts are spaced by a backoff that doubles from 100 ms to 5 s, and an operation in between fails at once
/// with <see cref="TransportException"/>, so a publisher's retry policy decides how long to wait.
/// </para>
/// <para>
/// Dead-lettering: RabbitMQ's own dead-lettering cannot add the reason header, so a reject with a reason on a queue
/// declared here with <c>x-dead-letter-exchange</c> publishes a copy carrying <see cref="DeadLetter.ReasonHeader"/> and an
/// <c>x-death</c> record to that exchange, waits for the broker's confirm, then acks. A reject without a reason uses
/// RabbitMQ's dead-lettering. A queue without a dead-letter exchange sends reasoned rejects to the
/// <see cref="AmqpSettings.DeadLetterExchange"/> when one is set, since Celery's queues carry no arguments to change.
/// </para>
/// <para>Delayed delivery goes through <see cref="AmqpDelayLadder"/>.</para>
/// </remarks>
internal sealed class AmqpTransport : ITransport
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(5);

    private readonly ConnectionFactory factory;
    private readonly BrokerSettings settings;
    private readonly string redactedUrl;
    private readonly ILogger logger;
    private readonly TimeProvider clock;
    private readonly SemaphoreSlim connectGate = new(1, 1);
    private readonly ConcurrentDictionary<string, QueueArguments> declaredQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<AmqpConsumer, byte> consumers = new();
    private AmqpSession? session;
    private Exception? lastConnectError;
    private DateTimeOffset nextConnectAttempt;
    private TimeSpan backoff;
    private long unroutable;
    private long droppedDeadLetters;
    private long connectionsOpened;
    private int disposed;

    public AmqpTransport(BrokerUrl url, BrokerSettings settings, ILogger logger, TimeProvider? clock = null)
    {
        factory = AmqpConnectionFactory.Create(url, settings);
        this.settings = settings;
        redactedUrl = AmqpConnectionFactory.Redacted(url);
        this.logger = logger;
        this.clock = clock ?? TimeProvider.System;
        if (settings.Amqp.MaxPriority is < 0 or > 255)
        {
            const string name = "cluster-queue.broker.amqp.max-priority";
            throw new ArgumentOutOfRangeException(name, settings.Amqp.MaxPriority, $"{name} must be 0 (no priorities) to 255");
        }
    }

    /// <summary>Messages the broker returned as unroutable and so dropped (published with the mandatory flag).</summary>
    public long UnroutableCount => Interlocked.Read(ref unroutable);

    /// <summary>Messages rejected without requeue from a queue declared here without a dead-letter exchange, and so dropped.</summary>
    public long DroppedDeadLetterCount => Interlocked.Read(ref droppedDeadLetters);

    /// <summary>How many connections this transport has opened; more than one means it reconnected.</summary>
    public long ConnectionsOpened => Interlocked.Read(ref connectionsOpened);

    internal ILogger Logger => logger;

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var type = exchange.Type.ToString().ToLowerInvariant();
        return ControlAsync(
            channel => channel.ExchangeDeclareAsync(exchange.Name, type, exchange.Durable, exchange.AutoDelete, cancellationToken: cancellationToken),
            $"declaring {type} exchange '{exchange.Name}'",
            cancellationToken);
    }

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var parsed = QueueArguments.Parse(queue.Name, queue.Arguments);
        var arguments = WithOptions(queue);
        return DeclareAsync();

        async ValueTask DeclareAsync()
        {
            await ControlAsync(
                channel => channel.QueueDeclareAsync(queue.Name, queue.Durable, queue.Exclusive, queue.AutoDelete, arguments, cancellationToken: cancellationToken),
                $"declaring queue '{queue.Name}'",
                cancellationToken).ConfigureAwait(false);
            declaredQueues[queue.Name] = parsed;
        }
    }

    public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var arguments = AmqpFieldTable.ToAmqp(binding.Arguments, "binding argument");
        return ControlAsync(
            channel => channel.QueueBindAsync(binding.Queue, binding.Exchange, binding.RoutingKey, arguments, cancellationToken: cancellationToken),
            $"binding queue '{binding.Queue}' to exchange '{binding.Exchange}'",
            cancellationToken);
    }

    public async ValueTask PublishAsync(
        string exchange,
        string routingKey,
        Envelope message,
        PublishOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentNullException.ThrowIfNull(message);
        var properties = AmqpMessages.ToProperties(message);
        var delayMs = options?.NotBefore is { } notBefore
            ? (long)Math.Ceiling((notBefore - clock.GetUtcNow()).TotalMilliseconds)
            : 0;
        if (delayMs <= 0)
        {
            await PublishNowAsync(exchange, routingKey, properties, message.Body, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (delayMs > AmqpDelayLadder.MaxDelay.TotalMilliseconds)
        {
            throw new PreconditionFailedException(
                $"delayed delivery on RabbitMQ reaches at most {AmqpDelayLadder.MaxDelay.TotalDays:0.#} days ahead; got {TimeSpan.FromMilliseconds(delayMs)}");
        }

        var target = AmqpDelayLadder.TargetOf(exchange, routingKey);
        var current = await SessionAsync(cancellationToken).ConfigureAwait(false);
        await current.ControlAsync(
            async channel =>
            {
                await current.Ladder.EnsureTargetAsync(channel, exchange, routingKey, target, cancellationToken).ConfigureAwait(false);
                return true;
            },
            "declaring the delayed-delivery queues",
            cancellationToken).ConfigureAwait(false);
        // A per-message expiration would end the message's wait in its level early.
        properties.Properties.Expiration = null;
        await PublishNowAsync(AmqpDelayLadder.TopExchange, AmqpDelayLadder.RoutingKey(delayMs, target), properties, message.Body, cancellationToken)
            .ConfigureAwait(false);
    }

    public async ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (options.Prefetch is < 0 or > ushort.MaxValue)
        {
            throw new PreconditionFailedException($"queue '{queue}': prefetch must be 0 (no limit) to {ushort.MaxValue}, got {options.Prefetch}");
        }

        var current = await SessionAsync(cancellationToken).ConfigureAwait(false);
        IChannel? channel = null;
        try
        {
            channel = await current.Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var consumer = new AmqpConsumer(this, channel, queue, options, perConsumerPrefetch: settings.Amqp.QuorumQueues);
            await consumer.StartAsync(cancellationToken).ConfigureAwait(false);
            consumers[consumer] = 0;
            return consumer;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await AmqpSession.DisposeQuietlyAsync(channel).ConfigureAwait(false);
            throw AmqpErrors.Map(e, $"consuming from queue '{queue}'");
        }
    }

    public async ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var session = await SessionAsync(cancellationToken).ConfigureAwait(false);
        return await session.ControlAsync(
            async channel => (long)await channel.QueuePurgeAsync(queue, cancellationToken).ConfigureAwait(false),
            $"purging queue '{queue}'",
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        await ControlAsync(
            channel => channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken),
            $"deleting queue '{queue}'",
            cancellationToken).ConfigureAwait(false);
        declaredQueues.TryRemove(queue, out _);
    }

    /// <summary>Messages ready in a queue, from a passive declare (tests and diagnostics).</summary>
    internal async Task<long> MessageCountAsync(string queue, CancellationToken cancellationToken = default)
    {
        var current = await SessionAsync(cancellationToken).ConfigureAwait(false);
        return await current.ControlAsync(
            async channel => (long)(await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount,
            $"counting the messages of queue '{queue}'",
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        foreach (var consumer in consumers.Keys)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        await connectGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                session = null;
            }
        }
        finally
        {
            connectGate.Release();
        }
    }

    internal void Forget(AmqpConsumer consumer) => consumers.TryRemove(consumer, out _);

    /// <summary>Publishes the dead-letter copy of a rejected delivery; false when the queue has nowhere to send it.</summary>
    internal async Task<bool> DeadLetterAsync(Delivery delivery, string reason, CancellationToken cancellationToken)
    {
        string exchange;
        string routingKey;
        if (declaredQueues.TryGetValue(delivery.Queue, out var arguments) && arguments.DeadLetterExchange is { } own)
        {
            exchange = own;
            routingKey = arguments.DeadLetterRoutingKey ?? delivery.RoutingKey;
        }
        else if (settings.Amqp.DeadLetterExchange is { Length: > 0 } fallback)
        {
            await EnsureFallbackDeadLetterAsync(fallback, cancellationToken).ConfigureAwait(false);
            exchange = fallback;
            routingKey = delivery.Queue;
        }
        else
        {
            return false;
        }

        var copy = AmqpDeadLetterCopy.Of(delivery, reason, clock.GetUtcNow());
        await PublishNowAsync(exchange, routingKey, AmqpMessages.ToProperties(copy), copy.Body, cancellationToken, requireConfirm: true)
            .ConfigureAwait(false);
        return true;
    }

    /// <summary>Counts a reject that RabbitMQ will drop because the queue, as declared here, has no dead-letter exchange.</summary>
    internal void NoteNativeReject(string queue)
    {
        if (declaredQueues.TryGetValue(queue, out var arguments) && arguments.DeadLetterExchange is null)
        {
            Interlocked.Increment(ref droppedDeadLetters);
        }
    }

    private async Task EnsureFallbackDeadLetterAsync(string exchange, CancellationToken cancellationToken)
    {
        // A fanout exchange with a queue of the same name, so that poison messages are kept until someone reads them.
        await ControlAsync(
            async channel =>
            {
                await channel.ExchangeDeclareAsync(exchange, "fanout", durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                await channel.QueueDeclareAsync(exchange, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                await channel.QueueBindAsync(exchange, exchange, "", cancellationToken: cancellationToken).ConfigureAwait(false);
            },
            $"declaring the dead-letter exchange '{exchange}'",
            cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishNowAsync(
        string exchange,
        string routingKey,
        AmqpOutgoingProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken,
        bool requireConfirm = false)
    {
        var current = await SessionAsync(cancellationToken).ConfigureAwait(false);
        bool routed;
        try
        {
            routed = await current.PublishAsync(exchange, routingKey, properties, body, requireConfirm, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not TransportException)
        {
            var error = AmqpErrors.Map(e, $"publishing to exchange '{exchange}'");
            throw error is QueueNotFoundException or ExchangeNotFoundException ? new ExchangeNotFoundException(exchange) : error;
        }

        if (!routed)
        {
            await CountReturnAsync(exchange, routingKey).ConfigureAwait(false);
        }
    }

    private Task CountReturnAsync(string exchange, string routingKey)
    {
        Interlocked.Increment(ref unroutable);
        logger.LogWarning("Dropped an unroutable message: exchange '{Exchange}', routing key '{RoutingKey}'", exchange, routingKey);
        return Task.CompletedTask;
    }

    private async ValueTask ControlAsync(Func<IChannel, Task> operation, string what, CancellationToken cancellationToken)
    {
        var current = await SessionAsync(cancellationToken).ConfigureAwait(false);
        await current.ControlAsync(
            async channel =>
            {
                await operation(channel).ConfigureAwait(false);
                return true;
            },
            what,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The open session, connecting first when there is none and the backoff allows an attempt.</summary>
    private async ValueTask<AmqpSession> SessionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        var current = Volatile.Read(ref session);
        if (current is { IsOpen: true })
        {
            return current;
        }

        await connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            if (session is { IsOpen: true })
            {
                return session;
            }

            var now = clock.GetUtcNow();
            if (lastConnectError is not null && now < nextConnectAttempt)
            {
                throw new TransportException(
                    $"RabbitMQ at {redactedUrl} is unreachable ({lastConnectError.Message}); next attempt in {(nextConnectAttempt - now).TotalMilliseconds:0} ms",
                    lastConnectError);
            }

            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                session = null;
            }

            IConnection connection;
            try
            {
                connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lastConnectError = e is BrokerUnreachableException { InnerException: { } inner } ? inner : e;
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
                nextConnectAttempt = now + backoff;
                throw new TransportException($"cannot connect to RabbitMQ at {redactedUrl}: {lastConnectError.Message}", e);
            }

            lastConnectError = null;
            backoff = TimeSpan.Zero;
            Interlocked.Increment(ref connectionsOpened);
            connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
            var opened = new AmqpSession(connection, settings.Amqp.ConfirmPublish, CountReturnAsync);
            Volatile.Write(ref session, opened);
            logger.LogInformation("Connected to RabbitMQ at {Url}", redactedUrl);
            return opened;
        }
        finally
        {
            connectGate.Release();
        }
    }

    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        if (reason.Initiator != ShutdownInitiator.Application && Volatile.Read(ref disposed) == 0)
        {
            logger.LogWarning("Lost the connection to RabbitMQ at {Url}: {Reason}", redactedUrl, reason.ReplyText);
        }

        return Task.CompletedTask;
    }

    /// <summary>The declared arguments plus this transport's queue options, as RabbitMQ field values.</summary>
    private Dictionary<string, object?>? WithOptions(QueueDeclaration queue)
    {
        var arguments = AmqpFieldTable.ToAmqp(queue.Arguments, $"queue '{queue.Name}': argument") ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        // Only durable, shared queues take the options: reply, event and pidbox queues must keep Celery's exact arguments.
        var shared = queue is { Durable: true, AutoDelete: false, Exclusive: false };
        if (shared && settings.Amqp.QuorumQueues)
        {
            arguments.TryAdd("x-queue-type", "quorum");
        }
        else if (shared && settings.Amqp.MaxPriority > 0)
        {
            // Quorum queues take no priorities in RabbitMQ 3.10, so the quorum option wins.
            arguments.TryAdd("x-max-priority", settings.Amqp.MaxPriority);
        }

        return arguments.Count == 0 ? null : arguments;
    }
}
