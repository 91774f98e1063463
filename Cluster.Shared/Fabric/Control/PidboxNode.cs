using System.Text.Json.Nodes;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Control;

/// <summary>
/// A node's mailbox: consumes <c>&lt;node&gt;.celery.pidbox</c> without acks, runs the commands meant for this node one at a
/// time, and replies when the request carries a ticket and a reply address.
/// </summary>
/// <remarks>
/// Nothing a request holds can stop the node: a malformed request is logged and dropped, an unknown method replies
/// <c>{"error": "KeyError('&lt;name&gt;')"}</c>, and a handler's exception replies with its repr.
/// </remarks>
public sealed class PidboxNode : IAsyncDisposable
{
    private readonly ITransport transport;
    private readonly ControlDispatcher dispatcher;
    private readonly PidboxTopology topology;
    private readonly LamportClock? appClock;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private IQueueConsumer? consumer;
    private Task? loop;
    private long handled;
    private long malformed;

    /// <remarks><c>appClock</c>: The app's event clock; every request read moves it forward, as a Celery worker does.</remarks>
    public PidboxNode(
        ITransport transport,
        string nodeName,
        ControlHandlerRegistry handlers,
        ControlSettings? settings = null,
        LamportClock? appClock = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeName);
        this.transport = transport ?? throw new ArgumentNullException(nameof(transport));
        NodeName = nodeName;
        topology = new PidboxTopology(settings);
        this.appClock = appClock;
        this.logger = logger ?? NullLogger.Instance;
        dispatcher = new ControlDispatcher(nodeName, handlers ?? throw new ArgumentNullException(nameof(handlers)), this.logger);
    }

    public string NodeName { get; }

    /// <summary>The mailbox clock, separate from the app clock; replies carry it in their <c>clock</c> header.</summary>
    public LamportClock MailboxClock { get; } = new();

    /// <summary>
    /// Runs while the node consumes; faults with <see cref="TransportException"/> when the broker connection is lost,
    /// so that the owner can start a new node with backoff.
    /// </summary>
    public Task Completion => loop ?? Task.CompletedTask;

    /// <summary>Requests this node acted on.</summary>
    public long HandledCount => Interlocked.Read(ref handled);

    /// <summary>Requests dropped because they could not be read.</summary>
    public long MalformedCount => Interlocked.Read(ref malformed);

    /// <summary>Declares the pidbox topology and the node queue, then starts consuming.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (loop is not null) throw new InvalidOperationException($"pidbox node {NodeName} is already started");
        await topology.DeclareExchangesAsync(transport, cancellationToken).ConfigureAwait(false);
        await transport.DeclareQueueAsync(topology.NodeQueueDeclaration(NodeName), cancellationToken).ConfigureAwait(false);
        await transport.BindQueueAsync(new QueueBinding(topology.NodeQueue(NodeName), topology.RequestExchange, ""), cancellationToken).ConfigureAwait(false);
        consumer = await transport.ConsumeAsync(topology.NodeQueue(NodeName), new ConsumeOptions(NoAck: true), cancellationToken).ConfigureAwait(false);
        loop = Task.Run(() => ConsumeLoopAsync(consumer, stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The loop ends by cancellation.
            }
            catch (TransportException)
            {
                // Already seen by whoever watches Completion; disposing must still release the consumer.
            }
        }

        if (consumer is not null) await consumer.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    private async Task ConsumeLoopAsync(IQueueConsumer source, CancellationToken cancellationToken)
    {
        await foreach (var delivery in source.Deliveries.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await HandleDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleDeliveryAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        ControlRequest request;
        bool selected;
        try
        {
            request = ControlCodec.DecodeRequest(delivery.Message);
            selected = NodeSelector.Selects(request, NodeName);
        }
        catch (FabricMessageException e)
        {
            Interlocked.Increment(ref malformed);
            logger.LogWarning("pidbox {Node}: dropped a malformed control request: {Problem}", NodeName, e.Message);
            return;
        }

        // Like a Celery worker, every request read moves both clocks, whether or not it is meant for this node.
        appClock?.Forward();
        MailboxClock.Adjust(request.Clock);
        if (!selected) return;
        var response = await dispatcher.DispatchAsync(request, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref handled);
        if (!response.SendsReply || !request.WantsReply) return;

        var reply = new ControlReply(NodeName, response.Value, request.Ticket, MailboxClock.Forward());
        try
        {
            await transport.PublishAsync(request.ReplyTo!.Exchange, request.ReplyTo.RoutingKey, ControlCodec.EncodeReply(reply), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (TransportException e)
        {
            // A lost reply only makes the caller time out; the next request may find the broker back.
            logger.LogWarning(e, "pidbox {Node}: could not reply to {Method}", NodeName, request.Method);
        }
    }
}
