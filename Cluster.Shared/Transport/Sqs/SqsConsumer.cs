using System.Globalization;
using System.Threading.Channels;
using Amazon.SQS.Model;
using ClusterQueue.Transport.Virtual;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Transport.Sqs;

/// <summary>
/// One consumer on one SQS queue: long-polls in batches of up to ten within the prefetch window, keeps every held
/// message invisible until it is settled, deletes in batches.
/// </summary>
/// <remarks>
/// A held message's visibility is extended every third of the visibility timeout, so a long task or a held ETA is
/// never redelivered while this consumer lives; if the process dies, SQS redelivers it when the timeout runs out.
/// </remarks>
internal sealed class SqsConsumer : IQueueConsumer
{
    private const int MaxBatch = 10;

    /// <summary>SQS keeps a message in flight at most this long after its receive, whatever the extensions.</summary>
    private const int MaxInFlightSeconds = 43_200;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(5);

    /// <summary>How long an ack waits for others to share its delete request; nobody waits on an ack's delete.</summary>
    private static readonly TimeSpan SettleLinger = TimeSpan.FromMilliseconds(5);

    private readonly SqsTransport transport;
    private readonly string url;
    private readonly ConsumeOptions options;
    private readonly Lock gate = new();
    private readonly Dictionary<ulong, Held> held = [];
    private readonly QueueSignals.Signal windowChanged = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly RequestBatcher<DeleteMessageBatchRequestEntry> deletes;
    private readonly RequestBatcher<ChangeMessageVisibilityBatchRequestEntry> visibility;
    private readonly Channel<Delivery> deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        SingleReader = false,
        AllowSynchronousContinuations = false,
    });

    private Task? disposing;
    private Task loop = Task.CompletedTask;
    private Task renewals = Task.CompletedTask;
    private ulong lastTag;
    private int prefetch;
    private int disposed;

    public SqsConsumer(SqsTransport transport, string queue, string url, ConsumeOptions options)
    {
        this.transport = transport;
        this.url = url;
        this.options = options;
        Queue = queue;
        prefetch = options.Prefetch;
        deletes = new RequestBatcher<DeleteMessageBatchRequestEntry>(DeleteBatchAsync, SettleLinger);
        visibility = new RequestBatcher<ChangeMessageVisibilityBatchRequestEntry>(ChangeVisibilityBatchAsync, SettleLinger);
    }

    public string Queue { get; }

    public ChannelReader<Delivery> Deliveries => deliveries.Reader;

    private int VisibilitySeconds => (int)transport.Settings.VisibilityTimeout.TotalSeconds;

    public void Start()
    {
        loop = Task.Run(() => RunAsync(stopping.Token));
        renewals = Task.Run(() => RenewLoopAsync(stopping.Token));
    }

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

    /// <summary>
    /// Returns once the delete is queued, as an AMQP ack returns once written: it goes out within a few milliseconds in a
    /// batch, and if the process dies first, SQS redelivers the message (at least once).
    /// </summary>
    public ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default)
    {
        var receipt = Release(delivery);
        Observe(DeleteAsync(receipt, CancellationToken.None), "deleting");
        return ValueTask.CompletedTask;
    }

    public async ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default)
    {
        var receipt = Release(delivery);
        if (requeue)
        {
            Observe(MakeVisibleAsync(receipt, CancellationToken.None), "returning");
            return;
        }

        await transport.DeadLetterAsync(delivery, "rejected", reason, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(receipt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every caller waits for the same disposal, so nobody disposes the transport under a flush still running.</summary>
    public ValueTask DisposeAsync()
    {
        lock (gate)
        {
            disposing ??= DisposeOnceAsync();
            return new ValueTask(disposing);
        }
    }

    private async Task DisposeOnceAsync()
    {
        Volatile.Write(ref disposed, 1);
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loop, renewals).ConfigureAwait(false);
        string[] unacked;
        lock (gate)
        {
            unacked = [.. held.Values.Select(h => h.Receipt)];
            held.Clear();
        }

        // As when an AMQP channel closes: whatever was delivered and not acked goes back to the queue.
        try
        {
            await Task.WhenAll(unacked.Select(receipt => MakeVisibleAsync(receipt, CancellationToken.None))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // SQS makes them visible on its own when the visibility timeout runs out.
            transport.Logger.LogWarning(e, "Could not return {Count} unacked messages to SQS queue {Queue}", unacked.Length, Queue);
        }

        deliveries.Writer.TryComplete();
        await deletes.DisposeAsync().ConfigureAwait(false);
        await visibility.DisposeAsync().ConfigureAwait(false);
        transport.Forget(this);
        stopping.Dispose();
    }

    private string Release(Delivery delivery)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        Held entry;
        lock (gate)
        {
            if (delivery.Queue != Queue || !held.Remove(delivery.DeliveryTag, out entry))
            {
                throw new PreconditionFailedException(
                    $"unknown delivery tag {delivery.DeliveryTag} on queue '{Queue}': not delivered to this consumer, or already acked or rejected");
            }
        }

        windowChanged.Pulse();
        return entry.Receipt;
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

    /// <summary>
    /// The least room that is worth a receive while messages are still held: half a batch. Receiving for every single
    /// ack would cost a request per message; the held messages keep the executors busy meanwhile.
    /// </summary>
    private int WorthReceiving()
    {
        var window = Volatile.Read(ref prefetch);
        return options.NoAck || window == 0 ? 1 : Math.Max(1, Math.Min(MaxBatch, window) / 2);
    }

    private bool HoldsAny()
    {
        lock (gate)
        {
            return held.Count > 0;
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = transport.Settings;
        var backoff = FirstBackoff;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await ReceiveOnceAsync(settings, cancellationToken).ConfigureAwait(false);
                    backoff = FirstBackoff;
                }
                catch (TransportException e) when (e.InnerException is not QueueDoesNotExistException)
                {
                    // The receipts of held messages stay valid, so a passing outage must not return them all to the
                    // queue (as ending the consumer would) while their tasks still run.
                    transport.Logger.LogWarning(e, "Receiving from SQS queue {Queue} failed; retrying in {Backoff}", Queue, backoff);
                    await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            deliveries.Writer.TryComplete(e as TransportException ?? new TransportException($"consumer of SQS queue '{Queue}' stopped: {e.Message}", e));
        }
    }

    private async Task ReceiveOnceAsync(SqsSettings settings, CancellationToken cancellationToken)
    {
        var settled = windowChanged.Watch();
        var room = Room();
        if (room <= 0 || (room < WorthReceiving() && HoldsAny()))
        {
            await settled.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var request = new ReceiveMessageRequest
        {
            QueueUrl = url,
            MaxNumberOfMessages = room,
            WaitTimeSeconds = settings.WaitTimeSeconds,
            VisibilityTimeout = VisibilitySeconds,
            MessageAttributeNames = ["All"],
            MessageSystemAttributeNames = ["ApproximateReceiveCount"],
        };
        var response = await transport.CallAsync(
            () => transport.Client.ReceiveMessageAsync(request, cancellationToken), $"receiving from queue '{Queue}'", Queue).ConfigureAwait(false);
        var messages = response.Messages ?? [];
        foreach (var message in messages)
        {
            // Not cancelled half-way: a message taken from SQS is handed on, sent on or settled.
            await AcceptAsync(message, CancellationToken.None).ConfigureAwait(false);
        }

        if (messages.Count == 0 && settings.PollingInterval > TimeSpan.Zero)
        {
            await Task.Delay(settings.PollingInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Hands a received message on, unless it came before its time (sent on with more delay) or after its expiry.</summary>
    private async Task AcceptAsync(Message message, CancellationToken cancellationToken)
    {
        var now = transport.NowMs;
        var notBefore = Attribute(message, SqsTransport.NotBeforeAttribute);
        var expiresAt = Attribute(message, SqsTransport.ExpiresAtAttribute);
        if (notBefore > now)
        {
            var reason = message.MessageAttributes?.GetValueOrDefault(DeadLetter.ReasonHeader)?.StringValue;
            await transport.SendAsync(Queue, message.Body, reason, notBefore.Value, expiresAt, cancellationToken).ConfigureAwait(false);
            await DeleteAsync(message.ReceiptHandle, cancellationToken).ConfigureAwait(false);
            transport.CountRedelay();
            return;
        }

        var decoded = KombuMessage.Decode(message.Body, Queue);
        var receives = message.Attributes?.GetValueOrDefault("ApproximateReceiveCount") is { } count
            && int.TryParse(count, CultureInfo.InvariantCulture, out var n) ? n : 1;
        var delivery = new Delivery(decoded.Message, decoded.Exchange, decoded.RoutingKey, Queue, ++lastTag, Redelivered: receives > 1);
        if (expiresAt <= now)
        {
            await transport.DeadLetterAsync(delivery, "expired", null, cancellationToken).ConfigureAwait(false);
            await DeleteAsync(message.ReceiptHandle, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (options.NoAck)
        {
            await DeleteAsync(message.ReceiptHandle, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            lock (gate)
            {
                held.Add(delivery.DeliveryTag, new Held(message.ReceiptHandle, now));
            }
        }

        deliveries.Writer.TryWrite(delivery);
    }

    private static long? Attribute(Message message, string name) =>
        message.MessageAttributes?.GetValueOrDefault(name)?.StringValue is { } text && long.TryParse(text, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>Extends every held message well before its visibility runs out.</summary>
    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(transport.Settings.VisibilityTimeout / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Held[] holding;
                lock (gate)
                {
                    holding = [.. held.Values];
                }

                var now = transport.NowMs;
                var extensions = new List<Task>(holding.Length);
                foreach (var (receipt, receivedAtMs) in holding)
                {
                    // SQS refuses to keep a message in flight past 12 hours from its receive.
                    var left = MaxInFlightSeconds - (int)((now - receivedAtMs) / 1000) - 1;
                    if (left <= 0)
                    {
                        transport.Logger.LogWarning("A message of SQS queue {Queue} has been held for 12 hours, the SQS limit; it will be delivered again", Queue);
                        continue;
                    }

                    extensions.Add(visibility.SendAsync(
                        new ChangeMessageVisibilityBatchRequestEntry { ReceiptHandle = receipt, VisibilityTimeout = Math.Min(VisibilitySeconds, left) },
                        cancellationToken));
                }

                try
                {
                    await Task.WhenAll(extensions).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A message settled meanwhile has no visibility left to extend; anything else SQS redelivers.
                    transport.Logger.LogDebug(e, "Extending the visibility of messages of SQS queue {Queue} failed", Queue);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A settle nobody awaits still reports its failure: the message will come back after its visibility timeout.</summary>
    private void Observe(Task settle, string what) =>
        settle.ContinueWith(
            t => transport.Logger.LogWarning(t.Exception!.InnerException, "SQS: {What} a message of queue {Queue} failed; it comes back after its visibility timeout", what, Queue),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private Task DeleteAsync(string receipt, CancellationToken cancellationToken) =>
        deletes.SendAsync(new DeleteMessageBatchRequestEntry { ReceiptHandle = receipt }, cancellationToken);

    private Task MakeVisibleAsync(string receipt, CancellationToken cancellationToken) =>
        visibility.SendAsync(new ChangeMessageVisibilityBatchRequestEntry { ReceiptHandle = receipt, VisibilityTimeout = 0 }, cancellationToken);

    private async Task<IReadOnlyList<Exception?>> DeleteBatchAsync(IReadOnlyList<DeleteMessageBatchRequestEntry> entries, CancellationToken cancellationToken)
    {
        Number(entries, (entry, id) => entry.Id = id);
        var response = await transport.CallAsync(
            () => transport.Client.DeleteMessageBatchAsync(new DeleteMessageBatchRequest { QueueUrl = url, Entries = [.. entries] }, cancellationToken),
            $"deleting from queue '{Queue}'", Queue).ConfigureAwait(false);
        return Outcomes(entries.Count, response.Failed, "deleting");
    }

    private async Task<IReadOnlyList<Exception?>> ChangeVisibilityBatchAsync(
        IReadOnlyList<ChangeMessageVisibilityBatchRequestEntry> entries, CancellationToken cancellationToken)
    {
        Number(entries, (entry, id) => entry.Id = id);
        var response = await transport.CallAsync(
            () => transport.Client.ChangeMessageVisibilityBatchAsync(
                new ChangeMessageVisibilityBatchRequest { QueueUrl = url, Entries = [.. entries] }, cancellationToken),
            $"changing visibility in queue '{Queue}'", Queue).ConfigureAwait(false);
        return Outcomes(entries.Count, response.Failed, "changing the visibility of");
    }

    private static void Number<T>(IReadOnlyList<T> entries, Action<T, string> setId)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            setId(entries[i], i.ToString(CultureInfo.InvariantCulture));
        }
    }

    private Exception?[] Outcomes(int count, List<BatchResultErrorEntry>? failed, string what)
    {
        var outcomes = new Exception?[count];
        foreach (var entry in failed ?? [])
        {
            outcomes[int.Parse(entry.Id, CultureInfo.InvariantCulture)] =
                new TransportException($"SQS refused {what} a message of queue '{Queue}': {entry.Code}: {entry.Message}");
        }

        return outcomes;
    }

    /// <summary>A message this consumer holds: its receipt, and when it was received (Unix ms).</summary>
    private readonly record struct Held(string Receipt, long ReceivedAtMs);
}
