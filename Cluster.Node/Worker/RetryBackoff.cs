namespace ClusterQueue.Node.Worker;

/// <summary>Celery's <c>get_exponential_backoff_interval</c>, used by <c>autoretry_for</c> with <c>retry_backoff</c>.</summary>
internal static class RetryBackoff
{
    /// <summary>min(maximum, factor × 2^retries) whole seconds; with full jitter a uniform pick from 0 to that value.</summary>
    public static TimeSpan Interval(int factorSeconds, int retries, TimeSpan maximum, bool fullJitter, Random random)
    {
        var exponential = factorSeconds * Math.Pow(2, Math.Min(retries, 62));
        var countdown = (long)Math.Min(Math.Floor(maximum.TotalSeconds), exponential);
        if (fullJitter)
        {
            // Python's random.randrange(countdown + 1): 0 to countdown inclusive.
            countdown = random.NextInt64(countdown + 1);
        }

        return TimeSpan.FromSeconds(Math.Max(0, countdown));
    }
}
