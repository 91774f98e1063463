using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using ClusterQueue.Client;
using ClusterQueue.Fabric.ClusterPlane;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Beat;

/// <summary>
/// A cluster member with role <c>beat</c> that consumes no tasks: it runs a <see cref="ClusterSingletonManager"/>, so
/// of all beat members only the oldest runs the <see cref="BeatScheduler"/>. When that member leaves, the next oldest
/// takes the scheduler over at once; when it dies, once the split-brain resolver has downed it.
/// </summary>
public sealed class BeatNode : IAsyncDisposable
{
    /// <summary>Role of a member that may hold the scheduler.</summary>
    public const string Role = ClusterMembers.BeatRole;

    private BeatNode(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    /// <summary>Sends each run with the entry's args, kwargs, queue and expiry, under the run's own task id.</summary>
    public static BeatSend SendWith(ClusterQueueApp app) => (entry, scheduledAt, cancellationToken) =>
        app.SendTaskAsync(entry.Task, (System.Text.Json.Nodes.JsonArray)entry.Args.DeepClone(), (System.Text.Json.Nodes.JsonObject)entry.Kwargs.DeepClone(), new SendOptions
        {
            TaskId = entry.TaskId(scheduledAt),
            Queue = entry.Queue,
            // Counted from the slot, not from the send, so a run sent late on takeover expires when it would have.
            Expires = scheduledAt + entry.Expires,
        }, cancellationToken);

    /// <summary>Joins the cluster with role <c>beat</c> (and <paramref name="extraRoles"/>) and starts the singleton manager.</summary>
    public static async Task<BeatNode> StartAsync(
        BeatSettings settings, ClusterSettings cluster, Akka.Configuration.Config akka, BeatSend send, ILoggerFactory logging,
        TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        var config = ConfigurationFactory.ParseString("akka.cluster.distributed-data.durable.keys = []\n" + settings.PersistenceConfig())
            .WithFallback(cluster.ToAkkaConfig([Role]))
            .WithFallback(akka)
            .WithFallback(ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
        var system = ActorSystem.Create(ClusterSettings.SystemName, BootstrapSetup.Create().WithConfig(config).And(new Akka.Hosting.Logging.LoggerFactorySetup(logging)));
        try
        {
            await ClusterMembers.JoinAsync(system, cluster, cancellationToken).ConfigureAwait(false);
            var log = logging.CreateLogger("ClusterQueue.Beat");
            var singleton = ClusterSingletonManagerSettings.Create(system)
                .WithRole(Role)
                .WithSingletonName("scheduler")
                .WithHandOverRetryInterval(settings.HandOverRetryInterval);
            // A scheduler that stops on its own (its store failed to recover or to write) is started again after a
            // backoff; the singleton manager alone would leave the cluster without one until the next hand-over.
            var scheduler = Akka.Pattern.BackoffSupervisor.Props(Akka.Pattern.Backoff.OnStop(
                BeatScheduler.Props(settings.Entries, settings, send, clock ?? TimeProvider.System, log),
                "scheduler",
                TimeSpan.FromSeconds(1),
                TimeSpan.FromSeconds(30),
                0.2,
                maxNrOfRetries: -1));
            system.ActorOf(ClusterSingletonManager.Props(scheduler, PoisonPill.Instance, singleton), "beat");
            return new BeatNode(system);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Leaves the cluster, handing the scheduler to the next oldest beat member.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
}
