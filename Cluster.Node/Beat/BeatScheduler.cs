using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Beat;

/// <summary>Sends one run of <paramref name="entry"/>, scheduled at <paramref name="scheduledAt"/>.</summary>
public delegate Task BeatSend(BeatEntry entry, DateTimeOffset scheduledAt, CancellationToken cancellationToken);

/// <summary>
/// The scheduler: recovers each entry's last slot from the journal, wakes at the next due time, records each run and
/// then sends it. It runs as a cluster singleton, so one instance sends for the whole cluster; the next holder
/// recovers the same journal and continues from the slot after the last recorded one, so a failover neither repeats a
/// run nor skips one (runs missed while no holder ran are sent on takeover, within <see cref="BeatSettings.CatchUp"/>).
/// </summary>
/// <remarks>
/// A run is recorded before it is sent: at most once per slot. A holder that dies between the two loses that one run;
/// sending first would instead repeat it, and a task that runs twice is the worse failure for most periodic jobs.
/// </remarks>
public sealed class BeatScheduler : ReceivePersistentActor, IWithTimers
{
    private const int SnapshotEvery = 100;

    private readonly IReadOnlyList<BeatEntry> entries;
    private readonly BeatSettings settings;
    private readonly BeatSend send;
    private readonly TimeProvider clock;
    private readonly ILogger log;
    private readonly TaskCompletionSource<int>? once;
    private readonly BeatState state = new();
    private readonly CancellationTokenSource stopping = new();
    private int pendingSends;
    private int sent;
    private bool allRecorded;

    public BeatScheduler(IReadOnlyList<BeatEntry> entries, BeatSettings settings, BeatSend send, TimeProvider clock, ILogger log, TaskCompletionSource<int>? once)
    {
        this.entries = entries;
        this.settings = settings;
        this.send = send;
        this.clock = clock;
        this.log = log;
        this.once = once;

        Recover<SnapshotOffer>(offer => state.Restore((byte[])offer.Snapshot));
        Recover<byte[]>(bytes => state.Apply(BeatState.Decode(bytes)));
        Recover<RecoveryCompleted>(_ =>
        {
            log.LogInformation("beat: scheduler started with {Entries} entries", entries.Count);
            Self.Tell(Check.Instance);
        });

        Command<Check>(_ => CheckDue());
        Command<Sent>(_ =>
        {
            sent++;
            SendDone();
        });
        Command<SendFailed>(failed =>
        {
            log.LogError(failed.Error, "beat: sending {Entry} (scheduled {At:O}) failed; that run is lost", failed.Entry, failed.At);
            SendDone();
        });
        Command<AllRecorded>(_ =>
        {
            allRecorded = true;
            TryFinishOnce();
        });
        Command<SaveSnapshotSuccess>(success =>
        {
            // The snapshot holds every entry's slot, so the events before it are no longer needed.
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure => log.LogWarning(failure.Cause, "beat: saving a snapshot failed; recovery reads more events"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => log.LogDebug(failure.Cause, "beat: deleting old events failed"));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure => log.LogDebug(failure.Cause, "beat: deleting old snapshots failed"));
    }

    public override string PersistenceId => BeatState.PersistenceId;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IReadOnlyList<BeatEntry> entries, BeatSettings settings, BeatSend send, TimeProvider clock, ILogger log, TaskCompletionSource<int>? once = null) =>
        Akka.Actor.Props.Create(() => new BeatScheduler(entries, settings, send, clock, log, once));

    protected override void PostStop()
    {
        stopping.Cancel();
        stopping.Dispose();
        once?.TrySetCanceled();
        base.PostStop();
    }

    private void CheckDue()
    {
        var now = clock.GetUtcNow();
        var events = new List<BeatState.Passed>();
        var wake = now + settings.MaxInterval;
        foreach (var entry in entries)
        {
            DateTimeOffset last;
            if (!state.Slots.TryGetValue(entry.Name, out var slot))
            {
                // A new entry starts counting now, as Celery's does: an interval runs first one period from now.
                last = now;
                events.Add(new BeatState.Passed(entry.Name, now, Ran: false));
            }
            else
            {
                last = slot.At;
                var (due, skipped, lastSkipped) = DueSlots(entry, last, now);
                if (lastSkipped is { } skippedAt)
                {
                    log.LogWarning("beat: {Entry} missed {Skipped} runs older than catch-up {CatchUp}; they are skipped", entry.Name, skipped, settings.CatchUp);
                    events.Add(new BeatState.Passed(entry.Name, skippedAt, Ran: false));
                    last = skippedAt;
                }

                foreach (var at in due)
                {
                    events.Add(new BeatState.Passed(entry.Name, at, Ran: true));
                    last = at;
                }
            }

            var next = entry.Schedule.NextAfter(last);
            if (next < wake)
            {
                wake = next;
            }
        }

        if (events.Count > 0)
        {
            var recorded = 0;
            PersistAll(events.Select(BeatState.Encode), bytes =>
            {
                var passed = BeatState.Decode(bytes);
                state.Apply(passed);
                if (passed.Ran)
                {
                    StartSend(passed);
                }

                if (LastSequenceNr % SnapshotEvery == 0)
                {
                    SaveSnapshot(state.Snapshot());
                }

                if (++recorded == events.Count)
                {
                    Self.Tell(AllRecorded.Instance);
                }
            });
        }
        else
        {
            Self.Tell(AllRecorded.Instance);
        }

        if (once is null)
        {
            // A timer may fire a little early; the check then finds nothing due and waits the rest.
            var delay = wake - now;
            Timers.StartSingleTimer("check", Check.Instance, delay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : delay);
        }
    }

    /// <summary>The slots after <paramref name="last"/> up to <paramref name="now"/>; those older than the catch-up window are counted, not run.</summary>
    private (List<DateTimeOffset> Due, long Skipped, DateTimeOffset? LastSkipped) DueSlots(BeatEntry entry, DateTimeOffset last, DateTimeOffset now)
    {
        var due = new List<DateTimeOffset>();
        long skipped = 0;
        DateTimeOffset? lastSkipped = null;
        var oldest = now - settings.CatchUp;
        var at = entry.Schedule.NextAfter(last);
        if (entry.Schedule is IntervalSchedule interval && at < oldest)
        {
            // Jump over a long outage in one step rather than one slot at a time.
            var periods = (oldest - at).Ticks / interval.Every.Ticks;
            skipped = periods;
            at += TimeSpan.FromTicks(periods * interval.Every.Ticks);
            lastSkipped = at - interval.Every;
        }

        for (; at <= now; at = entry.Schedule.NextAfter(at))
        {
            if (at < oldest)
            {
                skipped++;
                lastSkipped = at;
            }
            else
            {
                due.Add(at);
            }
        }

        return (due, skipped, lastSkipped);
    }

    private void StartSend(BeatState.Passed passed)
    {
        var entry = entries.First(e => e.Name == passed.Entry);
        pendingSends++;
        log.LogInformation("beat: sending {Task} ({Entry}, scheduled {At:O})", entry.Task, entry.Name, passed.At);
        Task sending;
        try
        {
            sending = send(entry, passed.At, stopping.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            sending = Task.FromException(e);
        }

        sending.PipeTo(Self, success: () => new Sent(passed.Entry, passed.At), failure: e => new SendFailed(passed.Entry, passed.At, e));
    }

    private void SendDone()
    {
        pendingSends--;
        TryFinishOnce();
    }

    private void TryFinishOnce()
    {
        if (once is not null && allRecorded && pendingSends == 0)
        {
            once.TrySetResult(sent);
        }
    }

    private sealed class Check
    {
        public static readonly Check Instance = new();
    }

    private sealed class AllRecorded
    {
        public static readonly AllRecorded Instance = new();
    }

    private sealed record Sent(string Entry, DateTimeOffset At);

    private sealed record SendFailed(string Entry, DateTimeOffset At, Exception Error);
}
