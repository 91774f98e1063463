using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Events;

/// <summary>What a worker reports in its heartbeats: running tasks and tasks processed so far.</summary>
public readonly record struct WorkerLoad(int Active, long Processed);

/// <summary>
/// A worker's liveness signal: <c>worker-online</c> on start, <c>worker-heartbeat</c> every interval, <c>worker-offline</c>
/// on stop, each with freq, active, processed and the load average, as Celery's <c>Heart</c> sends them.
/// </summary>
public sealed class WorkerHeartbeat : IAsyncDisposable
{
    private readonly EventDispatcher dispatcher;
    private readonly Func<WorkerLoad> load;
    private readonly TimeSpan interval;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public WorkerHeartbeat(EventDispatcher dispatcher, Func<WorkerLoad> load, TimeSpan? interval = null, TimeProvider? time = null, ILogger? logger = null)
    {
        this.dispatcher = dispatcher ?? throw new ArgumentNullException(nameof(dispatcher));
        this.load = load ?? throw new ArgumentNullException(nameof(load));
        this.interval = interval ?? new EventsSettings().HeartbeatInterval;
        if (this.interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), this.interval, "the heartbeat interval must be positive");
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Sends <c>worker-online</c> and starts the heartbeat loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (loop is not null) throw new InvalidOperationException("the heartbeat is already started");
        await dispatcher.SendAsync(Event(WorkerEvent.Online), cancellationToken).ConfigureAwait(false);
        loop = Task.Run(() => BeatAsync(stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops the loop and sends <c>worker-offline</c>, so monitors see the node leave at once rather than after 2 × freq.</summary>
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

            try
            {
                await dispatcher.SendAsync(Event(WorkerEvent.Offline)).ConfigureAwait(false);
            }
            catch (TransportException e)
            {
                logger.LogWarning(e, "could not send worker-offline for {Node}", dispatcher.Hostname);
            }
        }

        stopping.Dispose();
    }

    private WorkerEvent Event(string type)
    {
        var current = load();
        return new WorkerEvent(type) { Freq = interval.TotalSeconds, Active = current.Active, Processed = current.Processed, Loadavg = SoftwareInfo.LoadAverage() };
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await dispatcher.SendAsync(Event(WorkerEvent.Heartbeat), cancellationToken).ConfigureAwait(false);
            }
            catch (TransportException e)
            {
                // A missed beat only risks a monitor's "missed heartbeat"; the next tick tries again.
                logger.LogWarning(e, "could not send a heartbeat for {Node}", dispatcher.Hostname);
            }
        }
    }
}
