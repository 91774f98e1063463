namespace ClusterQueue.Client;

/// <summary>
/// kombu's publish retry policy: wait <see cref="IntervalStart"/>, then grow by <see cref="IntervalStep"/> up to
/// <see cref="IntervalMax"/> between attempts, giving up after <see cref="MaxRetries"/> retries.
/// </summary>
public sealed record RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>Retries after the first attempt; 0 means a single attempt, null retries for ever.</summary>
    public int? MaxRetries { get; init; } = 3;

    public TimeSpan IntervalStart { get; init; } = TimeSpan.Zero;

    public TimeSpan IntervalStep { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan IntervalMax { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The wait before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var delay = IntervalStart + (IntervalStep * (retry - 1));
        return delay > IntervalMax ? IntervalMax : delay;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/>, retrying on the exceptions <paramref name="isTransient"/> accepts. When the retries are
    /// used up the last exception propagates, wrapped to say how many attempts were made.
    /// </summary>
    public async ValueTask<T> ExecuteAsync<T>(
        Func<CancellationToken, ValueTask<T>> attempt,
        Func<Exception, bool> isTransient,
        string operation,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        for (var retry = 0; ; retry++)
        {
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (isTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (MaxRetries is { } max && retry >= max)
                {
                    throw new PublishFailedException($"{operation} failed after {retry + 1} attempt{(retry == 0 ? "" : "s")}: {e.Message}", e);
                }

                await Task.Delay(DelayBefore(retry + 1), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Publishing failed and the retry policy gave up; the inner exception is the broker's last error.</summary>
public sealed class PublishFailedException(string message, Exception inner) : Exception(message, inner);
