namespace ClusterQueue.Fabric;

/// <summary>Celery's (kombu's) Lamport clock: <c>forward</c> adds one, <c>adjust</c> takes the larger value plus one.</summary>
/// <remarks>
/// An app keeps one for its events and mingle replies; each mailbox keeps a separate one for pidbox headers
/// (interop note 25). Mixing them up makes a Python monitor's ordering wrong without any error.
/// </remarks>
public sealed class LamportClock(long initial = 0)
{
    private long value = initial;

    public long Value => Interlocked.Read(ref value);

    /// <summary>Advances the clock for a local event and returns the new time.</summary>
    public long Forward() => Interlocked.Increment(ref value);

    /// <summary>Merges a time seen on a received message: <c>max(local, other) + 1</c>, returned.</summary>
    public long Adjust(long other)
    {
        while (true)
        {
            var current = Interlocked.Read(ref value);
            var next = Math.Max(current, other) + 1;
            if (Interlocked.CompareExchange(ref value, next, current) == current) return next;
        }
    }
}
