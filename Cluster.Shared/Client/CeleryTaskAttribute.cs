namespace ClusterQueue.Client;

/// <summary>Marks a static method as a task under its Celery name, e.g. <c>[CeleryTask("tasks.add")]</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class CeleryTaskAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    /// <summary>Celery rate-limit string such as <c>10/s</c>, <c>100/m</c> or <c>1000/h</c>.</summary>
    public string? RateLimit { get; init; }

    /// <summary>Hard time limit in seconds; 0 means the node's default.</summary>
    public double TimeLimit { get; init; }

    /// <summary>Soft time limit in seconds; 0 means the node's default.</summary>
    public double SoftTimeLimit { get; init; }

    /// <summary>Ack after the task finished instead of before it starts. Unset means the node's setting.</summary>
    public bool AcksLate { get; init; }

    public bool IgnoreResult { get; init; }

    /// <summary>Retries allowed through <see cref="TaskContext.Retry"/> or <see cref="AutoRetryFor"/>; -1 means unlimited.</summary>
    public int MaxRetries { get; init; } = TaskOptions.DefaultMaxRetries;

    /// <summary>Seconds before a retry when no countdown is given (Celery's default_retry_delay).</summary>
    public double DefaultRetryDelay { get; init; } = TaskOptions.DefaultRetryDelaySeconds;

    /// <summary>Exception types that trigger an automatic retry.</summary>
    public Type[] AutoRetryFor { get; init; } = [];

    /// <summary>Exponential backoff for automatic retries: 1 s, 2 s, 4 s… capped by <see cref="RetryBackoffMax"/>.</summary>
    public bool RetryBackoff { get; init; }

    public double RetryBackoffMax { get; init; } = 600;

    public bool RetryJitter { get; init; } = true;

    public bool TrackStarted { get; init; }

    /// <summary>The queue this task is routed to when the caller names none.</summary>
    public string? Queue { get; init; }

    internal TaskOptions ToOptions() => new()
    {
        RateLimit = RateLimit is null ? null : Client.RateLimit.Parse(RateLimit),
        TimeLimit = TimeLimit > 0 ? TimeSpan.FromSeconds(TimeLimit) : null,
        SoftTimeLimit = SoftTimeLimit > 0 ? TimeSpan.FromSeconds(SoftTimeLimit) : null,
        AcksLate = AcksLate ? true : null,
        IgnoreResult = IgnoreResult,
        MaxRetries = MaxRetries < 0 ? null : MaxRetries,
        DefaultRetryDelay = TimeSpan.FromSeconds(DefaultRetryDelay),
        AutoRetryFor = AutoRetryFor,
        RetryBackoff = RetryBackoff,
        RetryBackoffMax = TimeSpan.FromSeconds(RetryBackoffMax),
        RetryJitter = RetryJitter,
        TrackStarted = TrackStarted,
        Queue = Queue,
    };
}
