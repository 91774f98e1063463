using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Monitor.State;

/// <summary>
/// Keeps <see cref="MonitorState"/> across restarts with Akka.Persistence: recovers the latest snapshot at start, then
/// saves one every interval when events arrived, and a last one at shutdown. Snapshots only, no journal: at thousands
/// of events a second a journal entry per event would cost more than the fold, and losing the last interval of a
/// crashed monitor is what a snapshot interval means.
/// </summary>
public sealed class StatePersister : ReceivePersistentActor, IWithTimers
{
    public const string Id = "cluster-queue-monitor";

    private readonly MonitorState state;
    private readonly TimeSpan retention;
    private readonly ILogger log;
    private readonly TaskCompletionSource recovered;
    private long savedAt = -1;
    private IActorRef? flushWaiter;

    public StatePersister(MonitorState state, TimeSpan interval, TimeSpan retention, TaskCompletionSource recovered, ILogger log)
    {
        this.state = state;
        this.retention = retention;
        this.recovered = recovered;
        this.log = log;
        Recover<SnapshotOffer>(offer =>
        {
            try
            {
                state.Restore((byte[])offer.Snapshot);
                log.LogInformation("Monitor state restored: {Tasks} tasks, {Workers} workers", state.Tasks(limit: int.MaxValue).Count, state.Workers().Count);
            }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidCastException)
            {
                log.LogWarning("The saved monitor state could not be read and is ignored: {Error}", e.Message);
            }
        });
        Recover<RecoveryCompleted>(_ =>
        {
            savedAt = state.EventCount;
            recovered.TrySetResult();
            Timers.StartPeriodicTimer("save", Save.Instance, interval);
        });
        Command<Save>(_ => SaveIfChanged());
        Command<Flush>(_ =>
        {
            if (state.EventCount == savedAt)
            {
                Sender.Tell(Flushed.Instance);
                return;
            }

            flushWaiter = Sender;
            SaveIfChanged();
        });
        Command<SaveSnapshotSuccess>(success =>
        {
            // Only the newest snapshot is needed.
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr, success.Metadata.Timestamp.AddTicks(-1)));
            flushWaiter?.Tell(Flushed.Instance);
            flushWaiter = null;
        });
        Command<SaveSnapshotFailure>(failure =>
        {
            log.LogWarning(failure.Cause, "Saving the monitor state failed; it is tried again at the next interval");
            savedAt = -1;
            flushWaiter?.Tell(Flushed.Instance);
            flushWaiter = null;
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure => log.LogDebug(failure.Cause, "Deleting older monitor snapshots failed"));
    }

    public override string PersistenceId => Id;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MonitorState state, TimeSpan interval, TimeSpan retention, TaskCompletionSource recovered, ILogger log) =>
        Akka.Actor.Props.Create(() => new StatePersister(state, interval, retention, recovered, log));

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        recovered.TrySetException(reason);
        base.OnRecoveryFailure(reason, message);
    }

    private void SaveIfChanged()
    {
        var count = state.EventCount;
        if (count == savedAt)
        {
            return;
        }

        savedAt = count;
        SaveSnapshot(state.Export(retention));
    }

    /// <summary>Saves now when anything changed, and answers <see cref="Flushed"/> once it is written.</summary>
    public sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    public sealed class Flushed
    {
        public static readonly Flushed Instance = new();
    }

    private sealed class Save
    {
        public static readonly Save Instance = new();
    }
}
