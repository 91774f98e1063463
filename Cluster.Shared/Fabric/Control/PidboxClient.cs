using System.Text.Json.Nodes;
using System.Threading.Channels;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Control;

/// <summary>
/// Sends remote-control requests to <c>celery.pidbox</c> and gathers the replies from its own reply queue
/// <c>&lt;oid&gt;.reply.celery.pidbox</c>, as Celery's <c>app.control</c> does.
/// </summary>
/// <remarks>
/// One reply queue serves every call of a client. Replies are matched to calls by ticket; a reply whose ticket no call
/// is waiting for yet is kept, so that concurrent calls, or a later <see cref="CollectAsync"/>, still get it.
/// </remarks>
public sealed class PidboxClient : IControlCarrier
{
    // Replies nobody collects would otherwise pile up for the client's lifetime.
    private const int MaxUnclaimedReplies = 10_000;

    // Late replies to finished gathers are recognised by ticket and dropped, rather than kept as unclaimed.
    private const int RememberedFinishedTickets = 1_024;

    private readonly ITransport transport;
    private readonly PidboxTopology topology;
    private readonly ControlSettings settings;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly object gate = new();
    private readonly Dictionary<string, Channel<ControlReply>> waiting = new(StringComparer.Ordinal);
    private readonly LinkedList<ControlReply> unclaimed = new();
    private readonly HashSet<string> finished = new(StringComparer.Ordinal);
    private readonly Queue<string> finishedOrder = new();
    private readonly SemaphoreSlim starting = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private IQueueConsumer? replies;
    private Task? pump;
    private bool exchangesDeclared;

    public PidboxClient(ITransport transport, ControlSettings? settings = null, TimeProvider? time = null, ILogger? logger = null)
    {
        this.transport = transport ?? throw new ArgumentNullException(nameof(transport));
        this.settings = settings ?? new ControlSettings();
        topology = new PidboxTopology(this.settings);
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Carrier => "broker";

    /// <summary>The routing key of this client's reply queue.</summary>
    public string Oid { get; } = Guid.NewGuid().ToString();

    /// <summary>The loop reading the reply queue; it ends when its consumer is lost, and the next call starts another.</summary>
    internal Task ReplyPump => pump ?? Task.CompletedTask;

    /// <summary>The mailbox clock: forwarded for each request, adjusted by each reply.</summary>
    public LamportClock MailboxClock { get; } = new();

    /// <inheritdoc />
    public async Task<IReadOnlyList<ControlReply>> BroadcastAsync(
        string method,
        JsonObject? arguments = null,
        ControlTarget? target = null,
        bool reply = true,
        TimeSpan? timeout = null,
        int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var wait = timeout ?? settings.ReplyTimeout;
        var ticket = await SendAsync(method, arguments, target, reply, wait, cancellationToken).ConfigureAwait(false);
        if (ticket is null) return [];
        var expected = limit ?? (target?.Destination is { Count: > 0 } destination ? destination.Count : null);
        return await CollectAsync(ticket, wait, expected, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes a request and returns its ticket (null when no reply is wanted); collect with <see cref="CollectAsync"/>.</summary>
    public async Task<string?> SendAsync(
        string method,
        JsonObject? arguments = null,
        ControlTarget? target = null,
        bool reply = true,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        target ??= ControlTarget.All;
        if (target.Pattern is not null && target.Matcher is not null) NodeSelector.Matches("", target.Pattern, target.Matcher);
        await EnsureStartedAsync(reply, cancellationToken).ConfigureAwait(false);
        var ticket = reply ? Guid.NewGuid().ToString() : null;
        var wait = timeout ?? settings.ReplyTimeout;
        var request = new ControlRequest
        {
            Method = method,
            Arguments = arguments ?? [],
            Destination = target.Destination,
            Pattern = target.Pattern,
            Matcher = target.Matcher,
            Ticket = ticket,
            ReplyTo = reply ? new ReplyAddress(topology.ReplyExchange, Oid) : null,
            Clock = MailboxClock.Forward(),
            Expires = wait > TimeSpan.Zero ? (time.GetUtcNow() + wait).ToUnixTimeMilliseconds() / 1000.0 : 0,
        };
        await transport.PublishAsync(topology.RequestExchange, "", ControlCodec.EncodeRequest(request), cancellationToken: cancellationToken).ConfigureAwait(false);
        return ticket;
    }

    /// <summary>Gathers the replies carrying <paramref name="ticket"/>, including ones that arrived before this call, until the timeout or the limit.</summary>
    public async Task<IReadOnlyList<ControlReply>> CollectAsync(string ticket, TimeSpan timeout, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (limit is <= 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the reply limit must be positive");
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the reply timeout must not be negative");
        var inbox = Channel.CreateUnbounded<ControlReply>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        lock (gate)
        {
            if (!waiting.TryAdd(ticket, inbox)) throw new InvalidOperationException($"replies for ticket {ticket} are already being collected");
            for (var node = unclaimed.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Ticket == ticket)
                {
                    inbox.Writer.TryWrite(node.Value);
                    unclaimed.Remove(node);
                }

                node = next;
            }
        }

        var gathered = new List<ControlReply>();
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            while (limit is null || gathered.Count < limit)
            {
                gathered.Add(await inbox.Reader.ReadAsync(linked.Token).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The timeout ends a gather normally; whatever arrived is the answer.
        }
        finally
        {
            lock (gate)
            {
                waiting.Remove(ticket);

                // Replies beyond the limit stay available to a later collect of the same ticket.
                while (inbox.Reader.TryRead(out var extra)) unclaimed.AddLast(extra);
                if (finished.Add(ticket))
                {
                    finishedOrder.Enqueue(ticket);
                    if (finishedOrder.Count > RememberedFinishedTickets) finished.Remove(finishedOrder.Dequeue());
                }
            }
        }

        return gathered;
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (pump is not null)
        {
            try
            {
                await pump.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The pump ends by cancellation.
            }
        }

        if (replies is not null)
        {
            await replies.DisposeAsync().ConfigureAwait(false);
            try
            {
                await transport.DeleteQueueAsync(topology.ReplyQueue(Oid)).ConfigureAwait(false);
            }
            catch (TransportException e)
            {
                // The queue is auto-delete with x-expires, so the broker removes it anyway.
                logger.LogDebug(e, "could not delete reply queue {Queue}", topology.ReplyQueue(Oid));
            }
        }

        stopping.Dispose();
        starting.Dispose();
    }

    private async Task EnsureStartedAsync(bool needReplies, CancellationToken cancellationToken)
    {
        if (exchangesDeclared && (!needReplies || pump is { IsCompleted: false })) return;
        await starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!exchangesDeclared)
            {
                await topology.DeclareExchangesAsync(transport, cancellationToken).ConfigureAwait(false);
                exchangesDeclared = true;
            }

            if (needReplies && pump is not { IsCompleted: false })
            {
                // A pump that ended lost its consumer with the broker connection; the queue is declared again with a new consumer.
                if (replies is not null) await replies.DisposeAsync().ConfigureAwait(false);
                replies = null;
                var queue = topology.ReplyQueue(Oid);
                await transport.DeclareQueueAsync(topology.ReplyQueueDeclaration(Oid), cancellationToken).ConfigureAwait(false);
                await transport.BindQueueAsync(new QueueBinding(queue, topology.ReplyExchange, Oid), cancellationToken).ConfigureAwait(false);
                var consumer = await transport.ConsumeAsync(queue, new ConsumeOptions(NoAck: true), cancellationToken).ConfigureAwait(false);
                pump = Task.Run(() => PumpAsync(consumer, stopping.Token), CancellationToken.None);
                replies = consumer;
            }
        }
        finally
        {
            starting.Release();
        }
    }

    private async Task PumpAsync(IQueueConsumer consumer, CancellationToken cancellationToken)
    {
        try
        {
            await PumpRepliesAsync(consumer, cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException e)
        {
            // The next call consumes again; calls gathering now end at their timeout.
            logger.LogWarning(e, "control reply queue {Queue} lost its broker connection", topology.ReplyQueue(Oid));
        }
    }

    private async Task PumpRepliesAsync(IQueueConsumer consumer, CancellationToken cancellationToken)
    {
        await foreach (var delivery in consumer.Deliveries.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            ControlReply reply;
            try
            {
                reply = ControlCodec.DecodeReply(delivery.Message);
            }
            catch (FabricMessageException e)
            {
                logger.LogWarning("dropped a malformed control reply: {Problem}", e.Message);
                continue;
            }

            MailboxClock.Adjust(reply.Clock);
            Route(reply);
        }
    }

    private void Route(ControlReply reply)
    {
        lock (gate)
        {
            if (reply.Ticket is not null && waiting.TryGetValue(reply.Ticket, out var inbox))
            {
                inbox.Writer.TryWrite(reply);
                return;
            }

            if (reply.Ticket is not null && finished.Contains(reply.Ticket))
            {
                logger.LogDebug("dropped a late control reply from {Node}: its gather had ended", reply.Node);
                return;
            }

            unclaimed.AddLast(reply);
            if (unclaimed.Count > MaxUnclaimedReplies)
            {
                logger.LogWarning("dropped the oldest unclaimed control reply, from {Node}", unclaimed.First!.Value.Node);
                unclaimed.RemoveFirst();
            }
        }
    }
}
