using System.Collections.Concurrent;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Per task type token buckets of capacity 1, as Celery's worker keeps them. Each call books the next token, so
/// requests that arrive together get start times one interval apart instead of racing for the same token.
/// </summary>
internal sealed class RateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>When a task of <paramref name="taskName"/> may start; now or earlier means at once.</summary>
    public DateTimeOffset Book(string taskName, RateLimit limit)
    {
        var bucket = _buckets.GetOrAdd(taskName, _ => new Bucket());
        var now = time.GetUtcNow();
        var interval = TimeSpan.FromSeconds(1 / limit.PerSecond);
        lock (bucket)
        {
            var start = bucket.NextFree > now ? bucket.NextFree : now;
            bucket.NextFree = start + interval;
            return start;
        }
    }

    private sealed class Bucket
    {
        public DateTimeOffset NextFree { get; set; } = DateTimeOffset.MinValue;
    }
}
