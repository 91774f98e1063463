using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;

namespace ClusterQueue.Node.Beat;

/// <summary>
/// Reads the last runs from the beat's store without joining the cluster, for <c>beat --list</c> and <c>beat --once</c>:
/// a local actor system recovers the journal the scheduler writes.
/// </summary>
public static class BeatStateReader
{
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The state as the store holds it now.</summary>
    public static async Task<BeatState> ReadAsync(BeatSettings settings, CancellationToken cancellationToken = default)
    {
        var system = LocalSystem(settings);
        try
        {
            var recovered = new TaskCompletionSource<BeatState>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new Recovery(recovered)));
            return await recovered.Task.WaitAsync(RecoveryTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Sends the runs due now and records them, as one pass of the scheduler; the number sent.</summary>
    public static async Task<int> RunOnceAsync(BeatSettings settings, BeatSend send, Microsoft.Extensions.Logging.ILogger log, CancellationToken cancellationToken = default)
    {
        var system = LocalSystem(settings);
        try
        {
            var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(BeatScheduler.Props(settings.Entries, settings, send, TimeProvider.System, log, done));
            return await done.Task.WaitAsync(RecoveryTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private static ActorSystem LocalSystem(BeatSettings settings) => ActorSystem.Create(
        "cluster-queue-beat-reader",
        ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\n" + settings.PersistenceConfig())
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration));

    private sealed class Recovery : ReceivePersistentActor
    {
        private readonly BeatState state = new();

        public Recovery(TaskCompletionSource<BeatState> recovered)
        {
            Recover<SnapshotOffer>(offer => state.Restore((byte[])offer.Snapshot));
            Recover<byte[]>(bytes => state.Apply(BeatState.Decode(bytes)));
            Recover<RecoveryCompleted>(_ =>
            {
                recovered.TrySetResult(state);
                Context.Stop(Self);
            });
        }

        public override string PersistenceId => BeatState.PersistenceId;
    }
}
