namespace ClusterQueue.Fabric.Revocation;

/// <summary>
/// Celery's <c>LimitedSet</c>: a set of ids with insertion times, holding at most <c>maxLength</c> ids for at most
/// <c>expires</c>; the oldest are evicted first. Not thread-safe: its owner locks.
/// </summary>
public sealed class LimitedSet
{
    private readonly Dictionary<string, LinkedListNode<(string Id, double InsertedAt)>> index = new(StringComparer.Ordinal);
    // Oldest first; entries are appended with non-decreasing times, so the list stays sorted by time.
    private readonly LinkedList<(string Id, double InsertedAt)> order = new();
    private readonly double expiresSeconds;

    /// <summary>Creates an empty set; a non-positive expiry means entries never expire.</summary>
    public LimitedSet(int maxLength, TimeSpan expires)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        MaxLength = maxLength;
        expiresSeconds = expires > TimeSpan.Zero ? expires.TotalSeconds : double.PositiveInfinity;
    }

    public int MaxLength { get; }

    public int Count => index.Count;

    /// <summary>The entries, oldest first.</summary>
    public IEnumerable<(string Id, double InsertedAt)> Entries => order;

    /// <summary>
    /// Adds or refreshes <paramref name="id"/> at <paramref name="insertedAt"/> (epoch seconds), then drops expired
    /// entries and the oldest beyond the bound. Returns the ids dropped, so a store can forget them too.
    /// </summary>
    public List<string> Add(string id, double insertedAt)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (index.Remove(id, out var existing)) order.Remove(existing);

        // Keeps the list sorted when an entry arrives with an older time than the newest (loading, clock steps).
        var after = order.Last;
        while (after is not null && after.Value.InsertedAt > insertedAt) after = after.Previous;
        index[id] = after is null ? order.AddFirst((id, insertedAt)) : order.AddAfter(after, (id, insertedAt));
        return Purge(insertedAt);
    }

    /// <summary>True when <paramref name="id"/> is held and has not expired at <paramref name="now"/>.</summary>
    public bool Contains(string id, double now) =>
        index.TryGetValue(id, out var node) && node.Value.InsertedAt + expiresSeconds > now;

    /// <summary>Drops the entries expired at <paramref name="now"/> and the oldest beyond the bound; returns their ids.</summary>
    public List<string> Purge(double now)
    {
        var dropped = new List<string>();
        while (order.First is { } oldest && (order.Count > MaxLength || oldest.Value.InsertedAt + expiresSeconds <= now))
        {
            order.RemoveFirst();
            index.Remove(oldest.Value.Id);
            dropped.Add(oldest.Value.Id);
        }

        return dropped;
    }
}
