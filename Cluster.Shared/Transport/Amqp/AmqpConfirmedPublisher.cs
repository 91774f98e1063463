using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Publishes one message at a time on a channel in confirm mode and waits for the broker's ack, as kombu's confirm_publish does.</summary>
/// <remarks>
/// RabbitMQ.Client's own confirmation tracking stamps an <c>x-dotnet-pub-seq-no</c> header on every message to match
/// returns to publishes; that header would reach Python consumers. With one message in flight, a basic.return belongs
/// to it without any header: RabbitMQ sends the return before the ack of the same message.
/// </remarks>
internal sealed class AmqpConfirmedPublisher
{
    private readonly IChannel channel;
    private readonly SemaphoreSlim oneAtATime = new(1, 1);
    private readonly Lock gate = new();
    private TaskCompletionSource<bool>? pending;
    private ulong pendingSequence;
    private bool returned;

    public AmqpConfirmedPublisher(IChannel channel)
    {
        this.channel = channel;
        channel.BasicAcksAsync += (_, args) => Confirm(args.DeliveryTag, args.Multiple, acked: true);
        channel.BasicNacksAsync += (_, args) => Confirm(args.DeliveryTag, args.Multiple, acked: false);
        channel.BasicReturnAsync += (_, _) =>
        {
            lock (gate)
            {
                returned = true;
            }

            return Task.CompletedTask;
        };
        channel.ChannelShutdownAsync += (_, reason) =>
        {
            TakePending()?.TrySetException(new AlreadyClosedException(reason));
            return Task.CompletedTask;
        };
    }

    public IChannel Channel => channel;

    /// <summary>Publishes and waits for the confirm; false when the broker returned the message as unroutable.</summary>
    /// <exception cref="TransportException">The broker nacked the message.</exception>
    public async Task<bool> PublishAsync(string exchange, string routingKey, AmqpOutgoingProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sequence = await channel.GetNextPublishSequenceNumberAsync(cancellationToken).ConfigureAwait(false);
            var confirmation = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                pending = confirmation;
                pendingSequence = sequence;
                returned = false;
            }

            await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
            if (!await confirmation.Task.WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new TransportException($"the broker refused a message for exchange '{exchange}', routing key '{routingKey}' (nack)");
            }

            lock (gate)
            {
                return !returned;
            }
        }
        finally
        {
            TakePending();
            oneAtATime.Release();
        }
    }

    private Task Confirm(ulong deliveryTag, bool multiple, bool acked)
    {
        TaskCompletionSource<bool>? confirmed = null;
        lock (gate)
        {
            if (pending is not null && (deliveryTag == pendingSequence || (multiple && deliveryTag >= pendingSequence)))
            {
                confirmed = pending;
                pending = null;
            }
        }

        confirmed?.TrySetResult(acked);
        return Task.CompletedTask;
    }

    private TaskCompletionSource<bool>? TakePending()
    {
        lock (gate)
        {
            var taken = pending;
            pending = null;
            return taken;
        }
    }
}
