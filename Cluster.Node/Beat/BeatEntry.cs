using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterQueue.Node.Beat;

/// <summary>When an entry runs: a fixed interval (Celery's <c>schedule(run_every)</c>) or a <see cref="Crontab"/>.</summary>
public abstract record BeatSchedule
{
    /// <summary>The first run time strictly after <paramref name="time"/>, counted from the previous run time.</summary>
    public abstract DateTimeOffset NextAfter(DateTimeOffset time);

    /// <summary>The schedule as <c>--list</c> shows it.</summary>
    public abstract string Describe();
}

/// <summary>Every <see cref="Every"/>, counted from the previous run's scheduled time so the runs do not drift.</summary>
public sealed record IntervalSchedule(TimeSpan Every) : BeatSchedule
{
    public override DateTimeOffset NextAfter(DateTimeOffset time) => time + Every;

    public override string Describe() => Every.Ticks % TimeSpan.TicksPerSecond == 0
        ? $"every {(long)Every.TotalSeconds}s"
        : $"every {Every.TotalMilliseconds:0.###}ms";
}

/// <summary>A Celery crontab, evaluated in UTC.</summary>
public sealed record CrontabSchedule(Crontab Crontab) : BeatSchedule
{
    public override DateTimeOffset NextAfter(DateTimeOffset time) => Crontab.Next(time);

    public override string Describe() => $"crontab {Crontab.Text}";
}

/// <summary>One entry of <c>cluster-queue.beat.schedule</c> (an item of Celery's <c>beat_schedule</c>).</summary>
public sealed record BeatEntry(string Name, string Task, BeatSchedule Schedule)
{
    public JsonArray Args { get; init; } = [];

    public JsonObject Kwargs { get; init; } = [];

    /// <summary>The queue to send to; null routes the task as the client would (routes, then the default queue).</summary>
    public string? Queue { get; init; }

    /// <summary>How long after its scheduled time a run may still start; null for no expiry.</summary>
    public TimeSpan? Expires { get; init; }

    /// <summary>
    /// The task id of the run scheduled at <paramref name="scheduledAt"/>: a name-based UUID of the entry and the time,
    /// so every node would give one run the same id, and a run can be traced to its slot in the results.
    /// </summary>
    public string TaskId(DateTimeOffset scheduledAt)
    {
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes($"cluster-queue-beat:{Name}:{scheduledAt.UtcTicks}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        // RFC 4122 version 5 (name-based, SHA-1) and variant bits.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
