using Akka.Actor;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Membership;
using ClusterQueue.Fabric.Revocation;
using ClusterQueue.Node.Worker;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Fabric;

/// <summary>
/// A worker node's cluster messaging on both planes: the app clock, the replicated revoked set, the event dispatcher
/// (cluster topic and <c>celeryev</c>), and once the actor tree runs, the control actor on the cluster, the pidbox on
/// the broker, and the heartbeat. Opened after the node is Up in the cluster and before it consumes, so the revocations
/// it learns at start apply to the first task.
/// </summary>
internal sealed class NodeFabric : IAsyncDisposable
{
    private static readonly TimeSpan MinRestartDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(10);

    private readonly string _name;
    private readonly NodeFabricSettings _settings;
    private readonly ITransport _transport;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private PidboxNode? _pidbox;
    private IActorRef? _control;
    private ControlHandlerRegistry? _handlers;
    private Task _pidboxSupervision = Task.CompletedTask;
    private WorkerHeartbeat? _heartbeat;
    private int _disposed;

    private NodeFabric(string name, NodeFabricSettings settings, ITransport transport, ActorSystem system, RevokedTaskSet revoked, EventDispatcher events, LamportClock clock, ILoggerFactory logging)
    {
        _name = name;
        _settings = settings;
        _transport = transport;
        _logging = logging;
        _log = logging.CreateLogger("ClusterQueue.Node.Fabric");
        System = system;
        Revoked = revoked;
        Events = events;
        Clock = clock;
    }

    /// <summary>The cluster member this node is.</summary>
    public ActorSystem System { get; }

    /// <summary>The app clock, shared by events, mingle and the <c>clock</c> command.</summary>
    public LamportClock Clock { get; }

    public RevokedTaskSet Revoked { get; }

    public EventDispatcher Events { get; }

    /// <summary>Peers that answered mingle's hello on the broker at start-up.</summary>
    public int MinglePeers { get; private set; }

    /// <summary>
    /// Reads the revoked set from the cluster (a majority, or this node's durable copy), starts the dispatcher, and
    /// runs mingle on the broker, which Celery peers answer.
    /// </summary>
    /// <exception cref="NodeNameInUseException">A live Celery peer answered mingle under this node's name.</exception>
    public static async Task<NodeFabric> OpenAsync(string name, WorkerSettings settings, ITransport transport, ActorSystem system, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        var fabric = settings.Fabric;
        var clock = new LamportClock();
        var store = await ReplicatedRevocationStore.OpenAsync(system, fabric.Cluster.RevocationSyncTimeout, cancellationToken).ConfigureAwait(false);
        var revoked = new RevokedTaskSet(fabric.Revocation, store);
        store.Follow(revoked);
        var events = new EventDispatcher(
            transport,
            name,
            clock,
            fabric.Events,
            new EventDispatcherOptions { BatchTaskEvents = true, ClusterSink = new ClusterEventSink(system) },
            logger: logging.CreateLogger("ClusterQueue.Node.Fabric.Events"));
        events.TaskEventsEnabled = settings.SendTaskEvents || fabric.Events.Enabled;
        var node = new NodeFabric(name, fabric, transport, system, revoked, events, clock, logging);
        try
        {
            await events.StartAsync(cancellationToken).ConfigureAwait(false);
            await node.MingleAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts answering remote control, on the cluster and (unless <c>control.pidbox</c> is off or the broker has no
    /// broadcast) on the broker, and
    /// sends worker-online, then a heartbeat every interval.
    /// </summary>
    public async Task StartControlAsync(ControlHandlerRegistry handlers, Func<WorkerLoad> load, CancellationToken cancellationToken)
    {
        _handlers = handlers;
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new ControlDispatcher(_name, handlers, _logging.CreateLogger("ClusterQueue.Node.Fabric.Control"));
        _control = System.ActorOf(ClusterControlActor.Props(dispatcher, Clock, _logging.CreateLogger("ClusterQueue.Node.Fabric.Control"), subscribed), "control");
        await subscribed.Task.WaitAsync(SubscribeTimeout, cancellationToken).ConfigureAwait(false);

        // Processes outside the cluster (the CLI) reach the topic through the receptionist, with Akka's ClusterClient.
        Akka.Cluster.Tools.Client.ClusterClientReceptionist.Get(System);
        if (_settings.Control.Pidbox && _transport.Broadcasts)
        {
            _pidbox = await StartPidboxAsync(cancellationToken).ConfigureAwait(false);
            _pidboxSupervision = Task.Run(() => KeepPidboxAsync(_stopping.Token));
        }

        _heartbeat = new WorkerHeartbeat(Events, load, _settings.Events.HeartbeatInterval, logger: _log);
        await _heartbeat.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops answering remote control; called first at shutdown, as Celery closes its mailbox first.</summary>
    public async Task StopControlAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _control, null) is { } control)
        {
            System.Stop(control);
        }

        await _pidboxSupervision.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _pidbox, null) is { } pidbox)
        {
            await pidbox.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the mailboxes and the heartbeat (sending worker-offline), flushes buffered events.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopControlAsync().ConfigureAwait(false);
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        await Events.DisposeAsync().ConfigureAwait(false);
        Revoked.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Mingle on the broker syncs revoked ids and clocks with Celery peers, which are no cluster members. A Celery
    /// peer answering under our own name means the name is taken there too.
    /// </summary>
    private async Task MingleAsync(CancellationToken cancellationToken)
    {
        if (!_settings.Mingle.Enabled || !_transport.Broadcasts)
        {
            return;
        }

        await using var client = new PidboxClient(_transport, _settings.Control, logger: _log);
        var outcome = await MingleSync.HelloAsync(client, _name, Revoked, Clock, _settings.Mingle, _log, cancellationToken).ConfigureAwait(false);
        if (outcome.NameAnswered)
        {
            throw new NodeNameInUseException(_name);
        }

        MinglePeers = outcome.Peers;
        _log.LogInformation(outcome.Peers == 0 ? "mingle: all alone" : "mingle: synced with {Peers} nodes", outcome.Peers);
    }

    private async Task<PidboxNode> StartPidboxAsync(CancellationToken cancellationToken)
    {
        var pidbox = new PidboxNode(_transport, _name, _handlers!, _settings.Control, Clock, _logging.CreateLogger("ClusterQueue.Node.Fabric.Pidbox"));
        try
        {
            await pidbox.StartAsync(cancellationToken).ConfigureAwait(false);
            return pidbox;
        }
        catch
        {
            await pidbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A mailbox whose broker connection was lost is replaced, with backoff, as Celery's consumer restarts its pidbox on reconnect.</summary>
    private async Task KeepPidboxAsync(CancellationToken stopping)
    {
        while (_pidbox is { } current)
        {
            try
            {
                await current.Completion.WaitAsync(stopping).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (TransportException e)
            {
                _log.LogWarning(e, "{Node}: the mailbox lost its broker connection; starting it again", _name);
            }

            await current.DisposeAsync().ConfigureAwait(false);
            var next = await RestartAsync(StartPidboxAsync, "mailbox", stopping).ConfigureAwait(false);
            if (next is null)
            {
                return;
            }

            _pidbox = next;
        }
    }

    /// <summary>Starts something again until it works, doubling the delay up to 10 s; null once the node stops.</summary>
    private async Task<T?> RestartAsync<T>(Func<CancellationToken, Task<T>> start, string what, CancellationToken stopping)
        where T : class
    {
        var delay = MinRestartDelay;
        while (true)
        {
            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
                return await start(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
            catch (TransportException e)
            {
                _log.LogWarning("{Node}: could not start the {What} again: {Problem}", _name, what, e.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
            }
        }
    }
}
