namespace ClusterQueue.Results;

/// <summary>Result backend settings: the <c>cluster-queue.result</c> section (keys backend, expires, sweep-interval, polling-interval).</summary>
public sealed record ResultSettings
{
    /// <summary>
    /// Backend URL: <c>memory://</c>, <c>rpc://</c> (over the broker), <c>sqlite:///relative.db</c> / <c>sqlite:////absolute.db</c>,
    /// <c>postgresql://user:pass@host:5432/db</c> (also <c>postgres://</c> and Celery's <c>db+postgresql://</c>),
    /// or <c>file:///abs/dir</c> (Celery's file backend, shareable with Python Celery).
    /// </summary>
    public string Backend { get; init; } = "sqlite:///cluster-queue-results.db";

    /// <summary>How long a result is kept after it is stored (Celery's result_expires, 1 day).</summary>
    public TimeSpan Expires { get; init; } = TimeSpan.FromDays(1);

    /// <summary>How often the sweeper deletes expired results.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often a waiter re-reads a store that other processes write to.</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws when a duration is zero or negative, naming the setting.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Backend, "cluster-queue.result.backend");
        RequirePositive(Expires, "cluster-queue.result.expires");
        RequirePositive(SweepInterval, "cluster-queue.result.sweep-interval");
        RequirePositive(PollingInterval, "cluster-queue.result.polling-interval");
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
        }
    }
}
