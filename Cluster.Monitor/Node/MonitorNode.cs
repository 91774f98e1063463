using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.State;
using ClusterQueue.Monitor.Stream;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Monitor.Node;

/// <summary>
/// A cluster member with role <c>monitor</c>: subscribes to the event topic, folds every event into
/// <see cref="MonitorState"/> and fans it out through <see cref="EventHub"/>; sends remote control over the cluster.
/// </summary>
public sealed class MonitorNode : IAsyncDisposable
{
    private static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);
    private long malformed;
    private IActorRef? persister;
    private EventReceiver? celeryEvents;
    private Task celeryPump = Task.CompletedTask;

    private MonitorNode(ActorSystem system, MonitorSettings settings, ControlSettings control)
    {
        System = system;
        State = new MonitorState(settings.MaxTasks, IsUpMember, NodeNames);
        Hub = new EventHub(settings.EventBuffer, settings.SubscriberQueue, id => State.Task(id)?.Name);
        Control = ClusterControlClient.ForMember(system, control);
    }

    public ActorSystem System { get; }

    public MonitorState State { get; }

    public EventHub Hub { get; }

    /// <summary>Remote control from this member, over the cluster topic.</summary>
    public IControlCarrier Control { get; }

    /// <summary>Event bodies that could not be decoded; they are skipped.</summary>
    public long MalformedCount => Interlocked.Read(ref malformed);

    /// <summary>Joins the cluster (a cluster of one without seeds) and subscribes to the event topic before returning.</summary>
    public static async Task<MonitorNode> StartAsync(
        MonitorSettings settings, ClusterSettings cluster, Akka.Configuration.Config akka, ControlSettings control, ILoggerFactory logging, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var persistence = settings.PersistenceConfig();
        var config = ConfigurationFactory.ParseString("akka.cluster.distributed-data.durable.keys = []\n" + (persistence ?? ""))
            .WithFallback(cluster.ToAkkaConfig([ClusterMembers.MonitorRole]))
            .WithFallback(akka)
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
        var system = ActorSystem.Create(ClusterSettings.SystemName, BootstrapSetup.Create().WithConfig(config).And(new Akka.Hosting.Logging.LoggerFactorySetup(logging)));
        try
        {
            await ClusterMembers.JoinAsync(system, cluster, cancellationToken).ConfigureAwait(false);
            var node = new MonitorNode(system, settings, control);
            var log = logging.CreateLogger("ClusterQueue.Monitor");
            if (persistence is not null)
            {
                // The saved state comes back before the first new event is folded in.
                var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                node.persister = system.ActorOf(StatePersister.Props(node.State, settings.SnapshotInterval, settings.Retention, recovered, log), "state");
                await recovered.Task.WaitAsync(RecoveryTimeout, cancellationToken).ConfigureAwait(false);
            }

            var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new TopicSubscriber(node, subscribed, log)), "events");
            await subscribed.Task.WaitAsync(SubscribeTimeout, cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Folds and fans out one event, from the cluster topic or from <c>celeryev</c>.</summary>
    public void Ingest(ClusterEvent evt)
    {
        State.Apply(evt);
        Hub.Publish(evt);
    }

    /// <summary>
    /// Also folds in what arrives on the broker's <c>celeryev</c> exchange, so Python Celery workers show up. Our nodes'
    /// events reach <c>celeryev</c> too; the cluster topic already brought those, so they are skipped here.
    /// </summary>
    public async Task ReadCeleryEventsAsync(ClusterQueue.Transport.ITransport transport, ILogger logger, CancellationToken cancellationToken = default)
    {
        if (!transport.Broadcasts)
        {
            throw new InvalidOperationException("the broker has no broadcast, so there is no celeryev exchange to read (Celery sends no events there)");
        }

        celeryEvents = new EventReceiver(transport, logger: logger);
        await celeryEvents.StartAsync(cancellationToken).ConfigureAwait(false);
        var receiver = celeryEvents;
        celeryPump = Task.Run(async () =>
        {
            await foreach (var received in receiver.Events.ReadAllAsync().ConfigureAwait(false))
            {
                if (received.Event is WorkerEvent { SwIdent: SoftwareInfo.Ident } || IsClusterNode(received.Event.Hostname))
                {
                    continue;
                }

                Ingest(received.Event);
            }
        });
    }

    /// <summary>Saves the state now (when it is persisted) and returns once it is written.</summary>
    public async Task SaveAsync()
    {
        if (persister is not null)
        {
            await persister.Ask<StatePersister.Flushed>(StatePersister.Flush.Instance, RecoveryTimeout).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (celeryEvents is not null)
        {
            await celeryEvents.DisposeAsync().ConfigureAwait(false);
            await celeryPump.ConfigureAwait(false);
        }

        try
        {
            await SaveAsync().ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // The last interval's events are lost, as in a crash.
        }

        if (Control is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }

        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }

    /// <summary>The node names of the cluster's worker members, from their <c>node:&lt;name&gt;</c> roles.</summary>
    private IReadOnlyCollection<string> NodeNames() =>
        [.. Akka.Cluster.Cluster.Get(System).State.Members
            .SelectMany(m => m.Roles)
            .Where(r => r.StartsWith(ClusterMembers.NodeRolePrefix, StringComparison.Ordinal))
            .Select(r => r[ClusterMembers.NodeRolePrefix.Length..])];

    /// <summary>Whether <paramref name="hostname"/> is one of our nodes (a cluster member), up or not.</summary>
    public bool IsClusterNode(string hostname) => IsUpMember(hostname) is not null;

    /// <summary>Our nodes are members with role <c>node:&lt;name&gt;</c>; null for a name the cluster does not know (a Python worker).</summary>
    private bool? IsUpMember(string hostname)
    {
        var role = ClusterMembers.NodeRole(hostname);
        var cluster = Akka.Cluster.Cluster.Get(System);
        foreach (var member in cluster.State.Members)
        {
            if (member.HasRole(role))
            {
                return member.Status == Akka.Cluster.MemberStatus.Up && !cluster.State.Unreachable.Contains(member);
            }
        }

        return null;
    }

    private sealed class TopicSubscriber : ReceiveActor
    {
        public TopicSubscriber(MonitorNode node, TaskCompletionSource subscribed, ILogger log)
        {
            Receive<SubscribeAck>(_ => subscribed.TrySetResult());
            Receive<EventsPublished>(published =>
            {
                IReadOnlyList<ClusterEvent> events;
                try
                {
                    events = EventCodec.DecodeBody(published.Body);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref node.malformed);
                    log.LogWarning("Skipped an undecodable event ({RoutingKey}): {Error}", published.RoutingKey, e.Message);
                    return;
                }

                foreach (var evt in events)
                {
                    node.Ingest(evt);
                }
            });
        }

        protected override void PreStart() => ClusterEventSink.Subscribe(Context.System, Self);
    }
}
