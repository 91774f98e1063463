using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>One broker connection and the channels the transport shares on it: one for declarations and one or two for publishing.</summary>
/// <remarks>
/// A channel error (NOT_FOUND, PRECONDITION_FAILED) closes the channel that caused it, so each shared channel is
/// replaced on the next use after it closed; the connection itself lives on.
/// </remarks>
internal sealed class AmqpSession(IConnection connection, bool confirmPublish, Func<string, string, Task> onReturn) : IAsyncDisposable
{
    private readonly SemaphoreSlim controlGate = new(1, 1);
    private readonly SemaphoreSlim publishGate = new(1, 1);
    private IChannel? control;
    private IChannel? plainPublisher;
    private AmqpConfirmedPublisher? confirmedPublisher;

    public IConnection Connection { get; } = connection;

    public bool IsOpen => Connection.IsOpen;

    public AmqpDelayLadder Ladder { get; } = new();

    /// <summary>Runs declarations one at a time: a failing one closes the channel, which must not fail its neighbours.</summary>
    public async Task<T> ControlAsync<T>(Func<IChannel, Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        await controlGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (control is not { IsOpen: true })
            {
                await DisposeQuietlyAsync(control).ConfigureAwait(false);
                control = null;
                control = await Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return await operation(control).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not TransportException)
        {
            throw AmqpErrors.Map(e, what);
        }
        finally
        {
            controlGate.Release();
        }
    }

    /// <summary>
    /// Publishes with the mandatory flag; false when the broker is known to have returned the message as unroutable.
    /// Confirmed publishes wait for the broker's ack: ordinary ones when confirm-publish is on, and dead-letter copies
    /// always, since their originals are acked after them. Unconfirmed returns are reported to the return handler.
    /// </summary>
    public async Task<bool> PublishAsync(
        string exchange, string routingKey, AmqpOutgoingProperties properties, ReadOnlyMemory<byte> body, bool confirmed, CancellationToken cancellationToken)
    {
        if (confirmed || confirmPublish)
        {
            var publisher = await ConfirmedPublisherAsync(cancellationToken).ConfigureAwait(false);
            return await publisher.PublishAsync(exchange, routingKey, properties, body, cancellationToken).ConfigureAwait(false);
        }

        var channel = await PlainPublisherAsync(cancellationToken).ConfigureAwait(false);
        await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<IChannel> PlainPublisherAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref plainPublisher) is { IsOpen: true } open)
        {
            return open;
        }

        await publishGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (plainPublisher is { IsOpen: true } current)
            {
                return current;
            }

            await DisposeQuietlyAsync(plainPublisher).ConfigureAwait(false);
            plainPublisher = null;
            var channel = await Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            channel.BasicReturnAsync += (_, args) => onReturn(args.Exchange, args.RoutingKey);
            Volatile.Write(ref plainPublisher, channel);
            return channel;
        }
        finally
        {
            publishGate.Release();
        }
    }

    private async Task<AmqpConfirmedPublisher> ConfirmedPublisherAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref confirmedPublisher) is { Channel.IsOpen: true } open)
        {
            return open;
        }

        await publishGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (confirmedPublisher is { Channel.IsOpen: true } current)
            {
                return current;
            }

            await DisposeQuietlyAsync(confirmedPublisher?.Channel).ConfigureAwait(false);
            confirmedPublisher = null;
            // Tracking stays off: it would add a header to every message (see AmqpConfirmedPublisher).
            var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false);
            var channel = await Connection.CreateChannelAsync(options, cancellationToken).ConfigureAwait(false);
            var publisher = new AmqpConfirmedPublisher(channel);
            Volatile.Write(ref confirmedPublisher, publisher);
            return publisher;
        }
        finally
        {
            publishGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeQuietlyAsync(control).ConfigureAwait(false);
        await DisposeQuietlyAsync(plainPublisher).ConfigureAwait(false);
        await DisposeQuietlyAsync(confirmedPublisher?.Channel).ConfigureAwait(false);
        try
        {
            await Connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a connection the broker already dropped has nothing left to do.
        }

        Connection.Dispose();
    }

    internal static async Task DisposeQuietlyAsync(IChannel? channel)
    {
        if (channel is null)
        {
            return;
        }

        try
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A channel that the broker or a lost connection closed cannot be closed again.
        }
    }
}
