using ClusterQueue.Transport.Virtual;

namespace ClusterQueue.Transport.Memory;

/// <summary>The messages of one in-memory queue. Not thread-safe: the store's lock guards it.</summary>
/// <remarks>
/// Visible messages sit in a set ordered by priority then arrival. Delayed and leased messages wait in a heap by the time
/// they become visible; heap entries whose message has since moved on are skipped when they surface.
/// </remarks>
internal sealed class MemoryQueue
{
    private readonly Dictionary<long, Entry> entries = [];
    private readonly SortedSet<(int NegativePriority, long Id)> ready = [];
    private readonly PriorityQueue<long, long> invisible = new();
    private readonly PriorityQueue<long, long> expiring = new();

    public void Add(long id, NewMessage message)
    {
        var entry = new Entry(id, message) { VisibleAtMs = message.VisibleAtMs };
        entries.Add(id, entry);
        invisible.Enqueue(id, entry.VisibleAtMs);
        if (message.ExpiresAtMs is { } expiresAt)
        {
            expiring.Enqueue(id, expiresAt);
        }
    }

    public List<StoredMessage> Take(string queue, string consumerId, int max, long nowMs, long leaseUntilMs, bool remove)
    {
        Promote(nowMs);
        var chosen = new List<Entry>();
        foreach (var key in ready)
        {
            if (chosen.Count == max)
            {
                break;
            }

            var entry = entries[key.Id];
            if (entry.Message.ExpiresAtMs is not { } expiresAt || expiresAt > nowMs)
            {
                chosen.Add(entry);
            }
        }

        var taken = new List<StoredMessage>(chosen.Count);
        foreach (var entry in chosen)
        {
            ready.Remove(entry.ReadyKey);
            entry.InReady = false;
            var redelivered = entry.DeliveryCount++ > 0;
            if (remove)
            {
                entries.Remove(entry.Id);
            }
            else
            {
                entry.LeasedBy = consumerId;
                entry.VisibleAtMs = leaseUntilMs;
                invisible.Enqueue(entry.Id, leaseUntilMs);
            }

            var message = entry.Message;
            taken.Add(new StoredMessage(entry.Id, queue, message.Message, message.Exchange, message.RoutingKey, redelivered));
        }

        return taken;
    }

    public void Renew(string consumerId, IReadOnlyCollection<long> ids, long leaseUntilMs)
    {
        foreach (var id in ids)
        {
            if (entries.TryGetValue(id, out var entry) && entry.LeasedBy == consumerId)
            {
                entry.VisibleAtMs = leaseUntilMs;
                invisible.Enqueue(id, leaseUntilMs);
            }
        }
    }

    public bool Remove(long id, string consumerId)
    {
        if (!entries.TryGetValue(id, out var entry) || entry.LeasedBy != consumerId || entry.InReady)
        {
            return false;
        }

        entries.Remove(id);
        return true;
    }

    public void Release(string consumerId, IReadOnlyCollection<long> ids)
    {
        foreach (var id in ids)
        {
            if (entries.TryGetValue(id, out var entry) && entry.LeasedBy == consumerId && !entry.InReady)
            {
                entry.LeasedBy = null;
                MakeReady(entry);
                if (entry.Message.ExpiresAtMs is { } expiresAt)
                {
                    expiring.Enqueue(id, expiresAt);
                }
            }
        }
    }

    public long Purge(long nowMs)
    {
        var purged = entries.Values.Where(e => e.LeasedBy is null || e.VisibleAtMs <= nowMs).Select(e => e.Id).ToList();
        foreach (var id in purged)
        {
            var entry = entries[id];
            entries.Remove(id);
            if (entry.InReady)
            {
                ready.Remove(entry.ReadyKey);
            }
        }

        return purged.Count;
    }

    /// <summary>Removes and returns expired messages that no consumer holds; a held one is checked again when released.</summary>
    public List<StoredMessage> TakeExpired(string queue, long nowMs)
    {
        var expired = new List<StoredMessage>();
        while (expiring.TryPeek(out var id, out var expiresAt) && expiresAt <= nowMs)
        {
            expiring.Dequeue();
            if (!entries.TryGetValue(id, out var entry) || (entry.LeasedBy is not null && entry.VisibleAtMs > nowMs))
            {
                continue;
            }

            entries.Remove(id);
            if (entry.InReady)
            {
                ready.Remove(entry.ReadyKey);
            }

            var message = entry.Message;
            expired.Add(new StoredMessage(id, queue, message.Message, message.Exchange, message.RoutingKey, entry.DeliveryCount > 0));
        }

        return expired;
    }

    private void Promote(long nowMs)
    {
        while (invisible.TryPeek(out var id, out var visibleAt) && visibleAt <= nowMs)
        {
            invisible.Dequeue();
            if (entries.TryGetValue(id, out var entry) && !entry.InReady && entry.VisibleAtMs == visibleAt)
            {
                // A lease that ran out: its holder is gone, and the message is offered again.
                var leaseRanOut = entry.LeasedBy is not null;
                entry.LeasedBy = null;
                MakeReady(entry);
                if (leaseRanOut && entry.Message.ExpiresAtMs is { } expiresAt)
                {
                    expiring.Enqueue(id, expiresAt);
                }
            }
        }
    }

    private void MakeReady(Entry entry)
    {
        entry.InReady = true;
        ready.Add(entry.ReadyKey);
    }

    private sealed class Entry(long id, NewMessage message)
    {
        public long Id { get; } = id;

        public NewMessage Message { get; } = message;

        public (int, long) ReadyKey => (-Message.Priority, Id);

        public long VisibleAtMs { get; set; }

        public string? LeasedBy { get; set; }

        public int DeliveryCount { get; set; }

        public bool InReady { get; set; }
    }
}
