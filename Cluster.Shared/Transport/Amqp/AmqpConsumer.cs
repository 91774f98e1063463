using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ClusterQueue.Transport.Amqp;

/// <summary>One consumer on its own channel: deliveries flow into a channel reader; acks and rejects go back on the same channel.</summary>
/// <remarks>
/// The prefetch window is a channel-wide basic.qos (one consumer per channel, so it means the same), because only the
/// global form changes the window of a running consumer. Quorum queues refuse global QoS, so with quorum queues the
/// window is per consumer and a change re-subscribes: the old subscription's unacked deliveries stay valid on the channel.
/// </remarks>
internal sealed class AmqpConsumer : AsyncDefaultBasicConsumer, IQueueConsumer
{
    private readonly AmqpTransport transport;
    private readonly ConsumeOptions options;
    private readonly bool perConsumerPrefetch;
    private readonly Channel<Delivery> deliveries;
    private readonly Dictionary<ulong, Delivery> unacked = [];
    private readonly Lock gate = new();
    private readonly SemaphoreSlim subscribeGate = new(1, 1);
    private string? consumerTag;
    private int disposing;

    public AmqpConsumer(AmqpTransport transport, IChannel channel, string queue, ConsumeOptions options, bool perConsumerPrefetch)
        : base(channel)
    {
        this.transport = transport;
        this.options = options;
        this.perConsumerPrefetch = perConsumerPrefetch;
        Queue = queue;
        // Unbounded: the broker's prefetch window bounds acked consumers; no-ack reply queues get what is sent to them.
        // The broker's dispatcher writes, the reader runs elsewhere, so continuations must not run on the dispatcher.
        deliveries = System.Threading.Channels.Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions
        {
            SingleWriter = true,
            SingleReader = false,
            AllowSynchronousContinuations = false,
        });
    }

    public string Queue { get; }

    public ChannelReader<Delivery> Deliveries => deliveries.Reader;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ApplyPrefetchAsync(options.Prefetch, cancellationToken).ConfigureAwait(false);
        consumerTag = await Channel.BasicConsumeAsync(Queue, options.NoAck, this, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetPrefetchAsync(int prefetch, CancellationToken cancellationToken = default)
    {
        if (prefetch is < 0 or > ushort.MaxValue)
        {
            throw new PreconditionFailedException($"queue '{Queue}': prefetch must be 0 (no limit) to {ushort.MaxValue}, got {prefetch}");
        }

        await subscribeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (perConsumerPrefetch && consumerTag is { } tag)
            {
                await Channel.BasicCancelAsync(tag, cancellationToken: cancellationToken).ConfigureAwait(false);
                await ApplyPrefetchAsync(prefetch, cancellationToken).ConfigureAwait(false);
                consumerTag = await Channel.BasicConsumeAsync(Queue, options.NoAck, this, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ApplyPrefetchAsync(prefetch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException and not TransportException)
        {
            throw AmqpErrors.Map(e, $"setting the prefetch of queue '{Queue}'");
        }
        finally
        {
            subscribeGate.Release();
        }
    }

    public async ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default)
    {
        Take(delivery);
        try
        {
            await Channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw AmqpErrors.Map(e, $"acking a delivery of queue '{Queue}'");
        }
    }

    public async ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default)
    {
        Take(delivery);
        try
        {
            if (!requeue && reason is not null && await DeadLetterWithReasonAsync(delivery, reason, cancellationToken).ConfigureAwait(false))
            {
                await Channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!requeue)
            {
                transport.NoteNativeReject(Queue);
            }

            await Channel.BasicRejectAsync(delivery.DeliveryTag, requeue, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not TransportException)
        {
            throw AmqpErrors.Map(e, $"rejecting a delivery of queue '{Queue}'");
        }
    }

    public override Task HandleBasicDeliverAsync(
        string consumerTag,
        ulong deliveryTag,
        bool redelivered,
        string exchange,
        string routingKey,
        IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken = default)
    {
        var delivery = new Delivery(AmqpMessages.FromDelivery(properties, body), exchange, routingKey, Queue, deliveryTag, redelivered);
        if (!options.NoAck)
        {
            lock (gate)
            {
                unacked[deliveryTag] = delivery;
            }
        }

        deliveries.Writer.TryWrite(delivery);
        return Task.CompletedTask;
    }

    public override async Task HandleChannelShutdownAsync(object channel, ShutdownEventArgs reason)
    {
        await base.HandleChannelShutdownAsync(channel, reason).ConfigureAwait(false);
        if (Volatile.Read(ref disposing) != 0)
        {
            deliveries.Writer.TryComplete();
            return;
        }

        transport.Logger.LogWarning("Consumer of queue '{Queue}' lost its channel: {Reason}", Queue, reason.ReplyText);
        deliveries.Writer.TryComplete(new TransportException(
            $"the consumer of queue '{Queue}' lost its channel: {reason.ReplyText} ({reason.ReplyCode}); its unacked messages return to the queue"));
    }

    /// <summary>The broker cancelled the subscription: the queue was deleted (or, for a quorum queue, lost its leader).</summary>
    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        deliveries.Writer.TryComplete(new TransportException($"the broker cancelled the consumer of queue '{Queue}' (the queue was deleted)"));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposing, 1) != 0)
        {
            return;
        }

        // Closing the channel returns its unacked deliveries to the queue, marked redelivered.
        await AmqpSession.DisposeQuietlyAsync(Channel).ConfigureAwait(false);
        deliveries.Writer.TryComplete();
        transport.Forget(this);
    }

    private async Task<bool> DeadLetterWithReasonAsync(Delivery delivery, string reason, CancellationToken cancellationToken)
    {
        try
        {
            return await transport.DeadLetterAsync(delivery, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException e)
        {
            // The broker's own dead-lettering still keeps the message, only without the reason.
            transport.Logger.LogWarning(e, "Could not dead-letter a message of queue '{Queue}' with its reason; rejecting it instead", Queue);
            return false;
        }
    }

    private Task ApplyPrefetchAsync(int prefetch, CancellationToken cancellationToken) =>
        Channel.BasicQosAsync(0, (ushort)prefetch, global: !perConsumerPrefetch, cancellationToken);

    /// <summary>Claims a delivery for its one ack or reject; a second claim would make RabbitMQ close the channel.</summary>
    private void Take(Delivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        lock (gate)
        {
            if (!options.NoAck && unacked.TryGetValue(delivery.DeliveryTag, out var held) && ReferenceEquals(held, delivery))
            {
                unacked.Remove(delivery.DeliveryTag);
                return;
            }
        }

        throw new PreconditionFailedException(
            $"queue '{Queue}': unknown delivery tag {delivery.DeliveryTag} (already acked or rejected, delivered to another consumer, or consumed without acks)");
    }
}
