using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Events;

/// <summary>How an <see cref="EventDispatcher"/> sends.</summary>
public sealed record EventDispatcherOptions
{
    /// <summary>Buffer task events and send them as <c>task.multi</c> lists, as a Python worker's event loop does.</summary>
    public bool BatchTaskEvents { get; init; }

    /// <summary>A batch is sent when it holds this many events.</summary>
    public int MaxBatchSize { get; init; } = 100;

    /// <summary>A non-empty batch is sent at least this often; zero leaves flushing to the caller.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The <c>pid</c> field.</summary>
    public int Pid { get; init; } = Environment.ProcessId;

    /// <summary>Also send every event, as the same routing key and body, to the cluster topic (<see cref="ClusterPlane.ClusterTopics.Events"/>).</summary>
    public ClusterPlane.ClusterEventSink? ClusterSink { get; init; }
}

/// <summary>
/// Publishes events to the <c>celeryev</c> topic exchange, and to the cluster topic when given a cluster sink: stamps each with hostname, utcoffset, pid, the app clock
/// (forwarded) and the time, and sends it singly or, for task events when batching, in a <c>task.multi</c> list.
/// </summary>
public sealed class EventDispatcher : IAsyncDisposable
{
    private readonly ITransport transport;
    private readonly LamportClock clock;
    private readonly EventsSettings settings;
    private readonly EventDispatcherOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SemaphoreSlim batchLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private List<ClusterEvent> batch = [];
    private Task? flushLoop;
    private int taskEventsEnabled;

    public EventDispatcher(
        ITransport transport,
        string hostname,
        LamportClock clock,
        EventsSettings? settings = null,
        EventDispatcherOptions? options = null,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostname);
        this.transport = transport ?? throw new ArgumentNullException(nameof(transport));
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        Hostname = hostname;
        this.settings = settings ?? new EventsSettings();
        this.options = options ?? new EventDispatcherOptions();
        if (this.options.MaxBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), this.options.MaxBatchSize, "MaxBatchSize must be positive");
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
        taskEventsEnabled = 1;
    }

    public string Hostname { get; }

    /// <summary>Task events on or off (<c>enable_events</c> / <c>disable_events</c>); worker events are always sent.</summary>
    public bool TaskEventsEnabled
    {
        get => Volatile.Read(ref taskEventsEnabled) == 1;
        set => Volatile.Write(ref taskEventsEnabled, value ? 1 : 0);
    }

    /// <summary>Declares the exchange and starts the periodic batch flush.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (transport.Broadcasts)
        {
            await transport.DeclareExchangeAsync(new ExchangeDeclaration(settings.Exchange, ExchangeType.Topic, Durable: true, AutoDelete: false), cancellationToken)
                .ConfigureAwait(false);
        }

        if (options.BatchTaskEvents && options.FlushInterval > TimeSpan.Zero && flushLoop is null)
        {
            flushLoop = Task.Run(() => FlushLoopAsync(stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>Stamps and sends an event; returns it as sent, or null when task events are off.</summary>
    public async ValueTask<ClusterEvent?> SendAsync(ClusterEvent evt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (evt.IsTaskEvent && !TaskEventsEnabled) return null;
        var now = time.GetUtcNow();
        var stamped = evt with
        {
            Hostname = Hostname,
            Utcoffset = CeleryUtcOffset.For(time.LocalTimeZone, now),
            Pid = options.Pid,
            Clock = clock.Forward(),
            Timestamp = (now - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond,
        };

        // task-sent comes from clients and travels alone, as Celery's client sends it.
        if (options.BatchTaskEvents && stamped.IsTaskEvent && stamped is not TaskSentEvent)
        {
            List<ClusterEvent>? full = null;
            await batchLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                batch.Add(stamped);
                if (batch.Count >= options.MaxBatchSize) (full, batch) = (batch, []);
            }
            finally
            {
                batchLock.Release();
            }

            if (full is not null) await PublishBatchAsync(full, cancellationToken).ConfigureAwait(false);
            return stamped;
        }

        await PublishAsync(EventCodec.RoutingKey(stamped.Type), EventCodec.Encode(stamped), cancellationToken).ConfigureAwait(false);
        return stamped;
    }

    /// <summary>Sends the buffered task events now, as one <c>task.multi</c> list.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        List<ClusterEvent> pending;
        await batchLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (batch.Count == 0) return;
            (pending, batch) = (batch, []);
        }
        finally
        {
            batchLock.Release();
        }

        await PublishBatchAsync(pending, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (flushLoop is not null)
        {
            try
            {
                await flushLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The loop ends by cancellation.
            }
        }

        try
        {
            await FlushAsync().ConfigureAwait(false);
        }
        catch (TransportException e)
        {
            logger.LogWarning(e, "events of {Node} buffered at shutdown could not be sent", Hostname);
        }

        stopping.Dispose();
        batchLock.Dispose();
    }

    private Task PublishBatchAsync(List<ClusterEvent> events, CancellationToken cancellationToken) =>
        PublishAsync(EventCodec.MultiRoutingKey, EventCodec.EncodeBatch(events, Hostname), cancellationToken);

    /// <summary>
    /// One event model, two sinks: the cluster topic first (it never blocks), then <c>celeryev</c> on the broker, where
    /// the broker has broadcast (not SQS, where Celery sends no events either).
    /// </summary>
    private async Task PublishAsync(string routingKey, Protocol.Envelope message, CancellationToken cancellationToken)
    {
        options.ClusterSink?.Publish(routingKey, message.Body);
        if (transport.Broadcasts)
        {
            await transport.PublishAsync(settings.Exchange, routingKey, message, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FlushLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.FlushInterval, time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (TransportException e)
            {
                // The events are lost, as a Python worker loses them when the broker is away; the next tick tries again with new ones.
                logger.LogWarning(e, "could not send a batch of task events from {Node}", Hostname);
            }
        }
    }
}
