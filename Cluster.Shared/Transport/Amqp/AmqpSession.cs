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
    // Slot 0 publishes without confirms, slot 1 with them.
    private readonly IChannel?[] publishers = new IChannel?[2];

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
    /// The publishing channel. A confirmed one completes each publish when the broker has the message; ordinary publishes
    /// use it when confirm-publish is on, and dead-letter copies always do, since their originals are acked after them.
    /// </summary>
    public async Task<IChannel> PublisherAsync(bool confirmed, CancellationToken cancellationToken)
    {
        confirmed |= confirmPublish;
        var slot = confirmed ? 1 : 0;
        var current = Volatile.Read(ref publishers[slot]);
        if (current is { IsOpen: true })
        {
            return current;
        }

        await publishGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (publishers[slot] is { IsOpen: true } open)
            {
                return open;
            }

            await DisposeQuietlyAsync(publishers[slot]).ConfigureAwait(false);
            publishers[slot] = null;
            var options = new CreateChannelOptions(
                publisherConfirmationsEnabled: confirmed,
                publisherConfirmationTrackingEnabled: confirmed);
            var channel = await Connection.CreateChannelAsync(options, cancellationToken).ConfigureAwait(false);
            if (!confirmed)
            {
                // With confirms on, a returned message fails its own publish instead.
                channel.BasicReturnAsync += (_, args) => onReturn(args.Exchange, args.RoutingKey);
            }

            Volatile.Write(ref publishers[slot], channel);
            return channel;
        }
        catch (Exception e) when (e is not OperationCanceledException and not TransportException)
        {
            throw AmqpErrors.Map(e, "opening a publishing channel");
        }
        finally
        {
            publishGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeQuietlyAsync(control).ConfigureAwait(false);
        await DisposeQuietlyAsync(publishers[0]).ConfigureAwait(false);
        await DisposeQuietlyAsync(publishers[1]).ConfigureAwait(false);
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
