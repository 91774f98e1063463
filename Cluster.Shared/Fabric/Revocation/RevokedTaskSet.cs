using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Revocation;

/// <summary>A node's revoked task ids: a bounded, expiring set, written through to a store when one is given, and loaded from it on open.</summary>
public sealed class RevokedTaskSet : IDisposable
{
    private readonly LimitedSet set;
    private readonly IRevocationStore? store;
    private readonly TimeProvider time;
    private readonly object gate = new();

    public RevokedTaskSet(RevocationSettings? settings = null, IRevocationStore? store = null, TimeProvider? time = null)
    {
        settings ??= new RevocationSettings();
        if (settings.MaxIds <= 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.MaxIds, "revocation max-ids must be positive");
        set = new LimitedSet(settings.MaxIds, settings.Expires);
        this.store = store;
        this.time = time ?? TimeProvider.System;
        if (store is null) return;

        var dropped = new List<string>();
        foreach (var (id, revokedAt) in store.Load()) dropped.AddRange(set.Add(id, revokedAt));
        dropped.AddRange(set.Purge(Now));
        store.Remove(dropped);
    }

    public int Count
    {
        get
        {
            lock (gate) return set.Count;
        }
    }

    private double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Revokes ids now; returns them, for the <c>revoke</c> reply.</summary>
    public IReadOnlyList<string> Revoke(IEnumerable<string> taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var ids = taskIds.ToList();
        var now = Now;
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        lock (gate)
        {
            foreach (var id in ids)
            {
                dropped.Remove(id);
                dropped.UnionWith(set.Add(id, now));
            }

            // Each id is stored before the caller replies, so an acknowledged revoke survives a crash.
            store?.Save([.. ids.Where(id => !dropped.Contains(id)).Distinct().Select(id => (id, now))]);
            store?.Remove(dropped);
        }

        return ids;
    }

    public bool Contains(string taskId)
    {
        lock (gate) return set.Contains(taskId, Now);
    }

    /// <summary>The live ids, oldest first: the <c>revoked</c> reply.</summary>
    public IReadOnlyList<string> Snapshot()
    {
        var now = Now;
        lock (gate)
        {
            // Purged even without a store: a null-conditional call would skip evaluating its argument.
            var expired = set.Purge(now);
            store?.Remove(expired);
            return [.. set.Entries.Select(e => e.Id)];
        }
    }

    /// <summary>
    /// The mingle form <c>{id: [timestamp, id]}</c>. Celery sends <c>time.monotonic()</c> values, so each entry is
    /// given as this host's monotonic seconds minus its age; written as a float, as a Python receiver requires.
    /// </summary>
    public JsonObject ToMingle()
    {
        var now = Now;
        var monotonic = time.GetTimestamp() / (double)time.TimestampFrequency;
        var revoked = new JsonObject();
        lock (gate)
        {
            var expired = set.Purge(now);
            store?.Remove(expired);
            foreach (var (id, revokedAt) in set.Entries)
            {
                revoked[id] = new JsonArray(JsonValue.Create(monotonic - (now - revokedAt)), id);
            }
        }

        return revoked;
    }

    /// <summary>
    /// Merges a peer's mingle <c>revoked</c> object. A peer's timestamps are its own monotonic clock and mean nothing
    /// here, so merged ids count as revoked now; ids already held keep their time. A malformed entry is a
    /// <see cref="FabricMessageException"/> naming it, and nothing is merged.
    /// </summary>
    public int MergeMingle(JsonObject? revoked)
    {
        var ids = MingleRevoked.Parse(revoked);
        var now = Now;
        var added = new List<(string, double)>();
        var dropped = new List<string>();
        lock (gate)
        {
            foreach (var id in ids)
            {
                if (set.Contains(id, now)) continue;
                dropped.AddRange(set.Add(id, now));
                added.Add((id, now));
            }

            store?.Save([.. added.Where(a => !dropped.Contains(a.Item1))]);
            store?.Remove(dropped);
        }

        return added.Count;
    }

    /// <summary>
    /// Takes in what the replicated store holds: ids not held yet are added with their own revoke time, nothing is
    /// written back. Returns how many were new.
    /// </summary>
    public int MergeReplicated(IEnumerable<(string Id, double RevokedAt)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var now = Now;
        var added = 0;
        lock (gate)
        {
            foreach (var (id, revokedAt) in entries)
            {
                if (set.Contains(id, now)) continue;
                set.Add(id, revokedAt);
                added++;
            }

            set.Purge(now);
        }

        return added;
    }

    public void Dispose() => store?.Dispose();
}

/// <summary>Reads the <c>revoked</c> object of a mingle message, as Celery's <c>LimitedSet.update</c> accepts it.</summary>
public static class MingleRevoked
{
    /// <summary>Each value is <c>[float, id]</c> or a bare float; an int timestamp is refused, as a Python worker refuses it (interop note 6).</summary>
    public static IReadOnlyList<string> Parse(JsonObject? revoked)
    {
        if (revoked is null) return [];
        var ids = new List<string>(revoked.Count);
        foreach (var (id, value) in revoked)
        {
            var stamp = value is JsonArray { Count: >= 1 } entry ? entry[0] : value;
            if (stamp is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number || !IsFloatText(v))
            {
                throw new FabricMessageException($"mingle revoked['{id}'] must hold a float timestamp, not {value?.ToJsonString() ?? "null"}");
            }

            ids.Add(id);
        }

        return ids;
    }

    private static bool IsFloatText(JsonValue value)
    {
        if (value.TryGetValue<System.Text.Json.JsonElement>(out var element)) return element.GetRawText().AsSpan().IndexOfAny('.', 'e', 'E') >= 0;
        return value.TryGetValue<double>(out _) || value.TryGetValue<float>(out _);
    }
}
