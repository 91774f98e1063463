namespace ClusterQueue.Client;

/// <summary>The <c>cluster-queue.task</c> settings: defaults for every task whose own attribute leaves them unset.</summary>
public sealed record TaskDefaults
{
    /// <summary>Rate limit of a task that sets none, e.g. <c>10/s</c> (Celery's task_default_rate_limit).</summary>
    public string? DefaultRateLimit { get; init; }

    /// <summary>Store a STARTED result for every task (task_track_started).</summary>
    public bool TrackStarted { get; init; }

    /// <summary>Store no results for any task (task_ignore_result).</summary>
    public bool IgnoreResult { get; init; }

    /// <summary>The options of a task with these defaults filled in where the task left them unset.</summary>
    /// <exception cref="FormatException">The default rate limit is not a valid rate; the message names the setting.</exception>
    public TaskOptions ApplyTo(TaskOptions options)
    {
        RateLimit? rate;
        try
        {
            rate = RateLimit.Parse(DefaultRateLimit);
        }
        catch (FormatException e)
        {
            throw new FormatException($"cluster-queue.task.default-rate-limit: {e.Message}", e);
        }

        return options with
        {
            RateLimit = options.RateLimit ?? rate,
            TrackStarted = options.TrackStarted || TrackStarted,
            IgnoreResult = options.IgnoreResult || IgnoreResult,
        };
    }
}
