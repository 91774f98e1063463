using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClusterQueue.Node.Beat;

/// <summary>
/// The last scheduled time each entry has passed: a run sent at that time, or an anchor (the time a new entry was first
/// seen, or the last of the runs skipped as too old). What the journal holds, and what a new scheduler recovers.
/// </summary>
public sealed class BeatState
{
    /// <summary>The persistence id every beat node shares, so whichever holds the singleton recovers the same runs.</summary>
    public const string PersistenceId = "cluster-queue-beat";

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>One entry's last passed slot; <see cref="Ran"/> is false for an anchor.</summary>
    public sealed record Slot(DateTimeOffset At, bool Ran, DateTimeOffset? LastRun);

    /// <summary>A journal event: the entry passed the slot at <paramref name="At"/>, sending a run or not.</summary>
    public sealed record Passed(string Entry, DateTimeOffset At, bool Ran);

    public IReadOnlyDictionary<string, Slot> Slots => _slots;

    public void Apply(Passed passed)
    {
        var lastRun = passed.Ran ? passed.At : _slots.TryGetValue(passed.Entry, out var previous) ? previous.LastRun : null;
        _slots[passed.Entry] = new Slot(passed.At, passed.Ran, lastRun);
    }

    /// <summary>The next slot of <paramref name="entry"/>, counted from its last one or, for a new entry, from <paramref name="now"/>.</summary>
    public DateTimeOffset NextRun(BeatEntry entry, DateTimeOffset now) =>
        entry.Schedule.NextAfter(_slots.TryGetValue(entry.Name, out var slot) ? slot.At : now);

    // Events and snapshots are stored as UTF-8 JSON bytes: Akka's byte-array serializer needs no binding, and the rows
    // stay readable with any SQLite or PostgreSQL client.
    public static byte[] Encode(Passed passed) => JsonSerializer.SerializeToUtf8Bytes(passed, Json);

    public static Passed Decode(byte[] bytes) => JsonSerializer.Deserialize<Passed>(bytes, Json)
        ?? throw new JsonException("an empty beat event");

    public byte[] Snapshot() => JsonSerializer.SerializeToUtf8Bytes(_slots, Json);

    public void Restore(byte[] bytes)
    {
        _slots.Clear();
        foreach (var (name, slot) in JsonSerializer.Deserialize<Dictionary<string, Slot>>(bytes, Json) ?? [])
        {
            _slots[name] = slot;
        }
    }
}
