using System.Collections.Concurrent;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Rate and time limits set by remote control, by task name. They win over the task's own options until the node
/// stops, as Celery's <c>rate_limit</c> and <c>time_limit</c> commands change the task class in the worker only.
/// </summary>
internal sealed class TaskLimitOverrides
{
    private readonly ConcurrentDictionary<string, RateLimit?> _rates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (TimeSpan? Soft, TimeSpan? Hard)> _times = new(StringComparer.Ordinal);

    /// <summary>Sets a task's rate limit; null disables it.</summary>
    public void SetRateLimit(string taskName, RateLimit? limit) => _rates[taskName] = limit;

    /// <summary>Sets a task's soft and hard limits; null falls back to the node's limit, as Celery falls back to its app default.</summary>
    public void SetTimeLimits(string taskName, TimeSpan? soft, TimeSpan? hard) => _times[taskName] = (soft, hard);

    public RateLimit? RateLimitOf(TaskDefinition task) => _rates.TryGetValue(task.Name, out var limit) ? limit : task.Options.RateLimit;

    public TimeSpan? SoftTimeLimitOf(TaskDefinition task) => _times.TryGetValue(task.Name, out var limits) ? limits.Soft : task.Options.SoftTimeLimit;

    public TimeSpan? TimeLimitOf(TaskDefinition task) => _times.TryGetValue(task.Name, out var limits) ? limits.Hard : task.Options.TimeLimit;
}
