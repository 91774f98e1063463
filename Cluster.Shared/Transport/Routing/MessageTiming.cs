using System.Globalization;

namespace ClusterQueue.Transport.Routing;

/// <summary>Delayed delivery and TTL arithmetic shared by the transports that enforce them themselves. Times are Unix milliseconds.</summary>
internal static class MessageTiming
{
    /// <summary>Rounds up, so that a delayed message is never visible in the millisecond before its time.</summary>
    public static long CeilingMilliseconds(DateTimeOffset time)
    {
        var milliseconds = time.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) < time ? milliseconds + 1 : milliseconds;
    }

    /// <summary>When a message visible at <paramref name="visibleAt"/> expires: the shorter of its own and its queue's TTL.</summary>
    public static long? ExpiresAt(long visibleAt, long? messageTtl, TimeSpan? queueTtl)
    {
        long? ttl = (messageTtl, queueTtl) switch
        {
            ({ } m, { } q) => Math.Min(m, (long)q.TotalMilliseconds),
            ({ } m, null) => m,
            (null, { } q) => (long)q.TotalMilliseconds,
            _ => null,
        };
        return ttl is { } value ? visibleAt + value : null;
    }

    /// <summary>The AMQP <c>expiration</c> property: milliseconds as a decimal string.</summary>
    public static long? ParseExpiration(string? expiration)
    {
        if (expiration is null)
        {
            return null;
        }

        return long.TryParse(expiration, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? ms
            : throw new PreconditionFailedException(
                $"message property expiration must be a non-negative whole number of milliseconds, got '{expiration}'");
    }
}
