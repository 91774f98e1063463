using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Results;

/// <summary>Deletes expired results every sweep interval until cancelled (Celery's celery.backend_cleanup).</summary>
public sealed class ResultSweeper
{
    private readonly IResultBackend backend;
    private readonly TimeSpan interval;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ResultSweeper(IResultBackend backend, TimeSpan interval, TimeProvider? time = null, ILogger<ResultSweeper>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.backend = backend;
        this.interval = interval;
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger<ResultSweeper>.Instance;
    }

    /// <summary>Raised after each sweep with the number of results and saved groups deleted.</summary>
    public event Action<int>? Swept;

    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken = default)
    {
        var count = await backend.SweepExpiredAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            logger.LogInformation("Deleted {Count} expired results and groups", count);
        }

        Swept?.Invoke(count);
        return count;
    }

    /// <summary>Sweeps every interval; returns when cancelled. A failing sweep is logged and retried next interval.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await SweepOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A locked or briefly unavailable store must not stop expiry for the life of the node.
                    logger.LogWarning(e, "Sweeping expired results failed; retrying in {Interval}", interval);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
