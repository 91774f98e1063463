namespace ClusterQueue.Client;

/// <summary>A task type's attributes, as Celery keeps them on the task class.</summary>
public sealed record TaskOptions
{
    public const int DefaultMaxRetries = 3;
    public const double DefaultRetryDelaySeconds = 180;

    public RateLimit? RateLimit { get; init; }

    public TimeSpan? TimeLimit { get; init; }

    public TimeSpan? SoftTimeLimit { get; init; }

    /// <summary>Null means the node's <c>acks-late</c> setting decides.</summary>
    public bool? AcksLate { get; init; }

    public bool IgnoreResult { get; init; }

    /// <summary>Null means retry without limit.</summary>
    public int? MaxRetries { get; init; } = DefaultMaxRetries;

    public TimeSpan DefaultRetryDelay { get; init; } = TimeSpan.FromSeconds(DefaultRetryDelaySeconds);

    public IReadOnlyList<Type> AutoRetryFor { get; init; } = [];

    public bool RetryBackoff { get; init; }

    public TimeSpan RetryBackoffMax { get; init; } = TimeSpan.FromMinutes(10);

    public bool RetryJitter { get; init; } = true;

    public bool TrackStarted { get; init; }

    public string? Queue { get; init; }
}
