using System.Threading.Channels;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Events;

/// <summary>An event as a receiver saw it, with the local receive time that liveness is measured from.</summary>
public sealed record ReceivedEvent(ClusterEvent Event, DateTimeOffset ReceivedAt);

/// <summary>
/// Consumes events from its own queue <c>celeryev.&lt;uuid&gt;</c> bound to the <c>celeryev</c> exchange, accepting single
/// events and <c>task.multi</c> lists, and hands them out in order on <see cref="Events"/>.
/// </summary>
public sealed class EventReceiver : IAsyncDisposable
{
    private readonly ITransport transport;
    private readonly EventsSettings settings;
    private readonly LamportClock? clock;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    // One reader (the monitor or membership fold); unbounded because the broker queue's TTL already bounds what piles up.
    private readonly Channel<ReceivedEvent> events = Channel.CreateUnbounded<ReceivedEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource stopping = new();
    private IQueueConsumer? consumer;
    private Task? pump;
    private long malformed;

    /// <remarks><c>clock</c>, when given, is adjusted to each event's clock except a client's <c>task-sent</c>, which monitors do not trust.</remarks>
    public EventReceiver(ITransport transport, string routingKey = "#", EventsSettings? settings = null, LamportClock? clock = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        this.transport = transport ?? throw new ArgumentNullException(nameof(transport));
        RoutingKey = routingKey;
        this.settings = settings ?? new EventsSettings();
        this.clock = clock;
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
        QueueName = $"{this.settings.Exchange}.{Guid.NewGuid()}";
    }

    public string QueueName { get; }

    public string RoutingKey { get; }

    /// <summary>Events in arrival order; completes when the receiver is disposed, or with a <see cref="TransportException"/> when the broker connection is lost.</summary>
    public ChannelReader<ReceivedEvent> Events => events.Reader;

    /// <summary>Messages dropped because they could not be read.</summary>
    public long MalformedCount => Interlocked.Read(ref malformed);

    /// <summary>The queue declaration: non-durable, auto-delete, with <c>x-message-ttl</c> and <c>x-expires</c> in milliseconds.</summary>
    public QueueDeclaration QueueDeclaration => new(
        QueueName,
        Durable: false,
        AutoDelete: true,
        Arguments: new Dictionary<string, object?>
        {
            ["x-message-ttl"] = (int)settings.QueueTtl.TotalMilliseconds,
            ["x-expires"] = (int)settings.QueueExpires.TotalMilliseconds,
        });

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (pump is not null) throw new InvalidOperationException("the event receiver is already started");
        await transport.DeclareExchangeAsync(new ExchangeDeclaration(settings.Exchange, ExchangeType.Topic, Durable: true, AutoDelete: false), cancellationToken).ConfigureAwait(false);
        await transport.DeclareQueueAsync(QueueDeclaration, cancellationToken).ConfigureAwait(false);
        await transport.BindQueueAsync(new QueueBinding(QueueName, settings.Exchange, RoutingKey), cancellationToken).ConfigureAwait(false);
        consumer = await transport.ConsumeAsync(QueueName, new ConsumeOptions(NoAck: true), cancellationToken).ConfigureAwait(false);
        pump = Task.Run(() => PumpAsync(consumer, stopping.Token), CancellationToken.None);
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

        if (consumer is not null) await consumer.DisposeAsync().ConfigureAwait(false);
        events.Writer.TryComplete();
        stopping.Dispose();
    }

    private async Task PumpAsync(IQueueConsumer source, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var delivery in source.Deliveries.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await HandleAsync(delivery, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TransportException e)
        {
            logger.LogWarning(e, "event receiver on {Queue} lost its broker connection", QueueName);
            events.Writer.TryComplete(e);
        }
    }

    private async Task HandleAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        IReadOnlyList<ClusterEvent> decoded;
        try
        {
            decoded = EventCodec.DecodeBody(delivery.Message.Body);
        }
        catch (FabricMessageException e)
        {
            Interlocked.Increment(ref malformed);
            logger.LogWarning("dropped a malformed event message ({RoutingKey}): {Problem}", delivery.RoutingKey, e.Message);
            return;
        }

        var receivedAt = time.GetUtcNow();
        foreach (var evt in decoded)
        {
            if (clock is not null && evt is not TaskSentEvent) clock.Adjust(evt.Clock);
            await events.Writer.WriteAsync(new ReceivedEvent(evt, receivedAt), cancellationToken).ConfigureAwait(false);
        }
    }
}
