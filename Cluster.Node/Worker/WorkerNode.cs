using System.Net;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting.Logging;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Node.Fabric;
using ClusterQueue.Node.Steps;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Node.Worker;

/// <summary>A running worker node: its actor tree consumes the configured queues and runs tasks from the app's registry.</summary>
public sealed class WorkerNode : IAsyncDisposable
{
    /// <summary>The reason a warm shutdown gives Akka's <see cref="CoordinatedShutdown"/>.</summary>
    public sealed class WarmShutdownReason : CoordinatedShutdown.Reason
    {
        public static readonly WarmShutdownReason Instance = new();

        public override int ExitCode => 0;
    }

    /// <summary>The reason a cold shutdown gives Akka's <see cref="CoordinatedShutdown"/>.</summary>
    public sealed class ColdShutdownReason : CoordinatedShutdown.Reason
    {
        public static readonly ColdShutdownReason Instance = new();

        public override int ExitCode => 1;
    }

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ConsumerStopTimeout = TimeSpan.FromSeconds(5);

    private readonly NodeServices _node;
    private readonly ActorSystem _system;
    private readonly IActorRef _supervisor;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _stopping = new(1, 1);
    private readonly object _gate = new();
    private readonly TaskCompletionSource _coldRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly NodeFabric _fabric;
    private readonly TaskEventPublisher _taskEvents;
    private readonly WorkerStepRunner _steps;
    private readonly CancellationTokenSource _sweeperStop = new();
    private Task? _sweeping;
    private Task? _shutdown;
    private bool _coldShutdown;
    private CancellationToken _shutdownCancellation;

    private WorkerNode(WorkerSettings settings, ClusterQueueApp app, string name, ILoggerFactory logging, Action<TaskLifecycleEvent>? observer, NodeFabric fabric, ActorSystem system, WorkerSteps steps)
    {
        TaskEvent += observer;
        Name = name;
        _fabric = fabric;
        _taskEvents = new TaskEventPublisher(fabric.Events, logging.CreateLogger("ClusterQueue.Node.Fabric.Events"));
        _node = new NodeServices(settings, app, Name, logging, e => TaskEvent?.Invoke(e))
        {
            Ready = new ConsumersReady(settings.Queues),
            Revoked = fabric.Revoked,
            ClusterEvents = _taskEvents.Publish,
        };
        _system = system;
        // The drain is the phase in which the node stops taking work: consumers stop, held and reserved tasks go back
        // to the broker and running ones finish. Actors are stopped after it, in Akka's later phases.
        CoordinatedShutdown.Get(_system).AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-worker-node", DrainAsync);
        _supervisor = _system.ActorOf(NodeProps.Of(() => new NodeSupervisor(_node)), "node");
        _steps = new WorkerStepRunner(steps, _node, _supervisor);

        // The cluster may stop the system without us: the split-brain resolver downed this node. Its drain ran in
        // the system's shutdown; what is left is to close the node and say why.
        _system.WhenTerminated.ContinueWith(_ => OnSystemTerminated(), TaskScheduler.Default);
    }

    /// <summary>The actor system the node's tree runs in; a node stops it when it shuts down.</summary>
    public ActorSystem ActorSystem => _system;

    /// <summary>The resolved node name, e.g. <c>celery@host</c>.</summary>
    public string Name { get; }

    public WorkerStats Stats => _node.Stats;

    /// <summary>The cluster as Akka.Cluster shows it to this node.</summary>
    public IReadOnlyList<ClusterQueue.Fabric.ClusterPlane.ClusterMember> Members => ClusterQueue.Fabric.ClusterPlane.ClusterMembers.Snapshot(_system);

    /// <summary>True when the node stopped because the cluster downed it (a partition it was on the losing side of), not by a shutdown it was asked for.</summary>
    /// <remarks>
    /// Read from the reason CoordinatedShutdown ran with, whoever noticed first: the host stopping on the same
    /// shutdown may reach <see cref="WarmShutdownAsync"/> before the system's termination callback runs.
    /// </remarks>
    public bool DownedByCluster => CoordinatedShutdown.Get(_system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;

    /// <summary>The app clock this node stamps its events and mingle replies with.</summary>
    public ClusterQueue.Fabric.LamportClock Clock => _fabric.Clock;

    /// <summary>Task ids revoked in the cluster, replicated to every member and kept in the state db across restarts.</summary>
    public ClusterQueue.Fabric.Revocation.RevokedTaskSet Revoked => _fabric.Revoked;

    /// <summary>Raised on received, started, succeeded, failed, retried, revoked and rejected, on the thread that saw it.</summary>
    public event Action<TaskLifecycleEvent>? TaskEvent;

    /// <summary>Completes when the node has stopped.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Joins the cluster, checks that no member uses this name, learns the revoked ids, runs mingle, starts the actor
    /// tree, the mailboxes and the heartbeat, and returns once every queue has a consumer.
    /// </summary>
    /// <exception cref="ArgumentException">A setting cannot work; the message names its key.</exception>
    /// <exception cref="ClusterQueue.Fabric.Membership.NodeNameInUseException">A live node answered under this node's name.</exception>
    public static Task<WorkerNode> StartAsync(
        WorkerSettings settings,
        ClusterQueueApp app,
        ILoggerFactory? logging = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(settings, app, logging, observer: null, system: null, cancellationToken);

    /// <summary>
    /// Starts a node with <paramref name="observer"/> subscribed before the first message can arrive. A handler added to
    /// <see cref="TaskEvent"/> after <c>StartAsync</c> returns can miss the first tasks, which may already have run.
    /// </summary>
    public static Task<WorkerNode> StartAsync(
        WorkerSettings settings,
        ClusterQueueApp app,
        ILoggerFactory? logging,
        Action<TaskLifecycleEvent>? observer,
        CancellationToken cancellationToken) =>
        StartAsync(settings, app, logging, observer, system: null, cancellationToken);

    /// <summary>
    /// Starts a node in <paramref name="system"/> (the one Akka.Hosting runs in a Generic Host), or in an actor system of
    /// its own made from <see cref="WorkerSettings.AkkaConfig"/> when it is null. Either way the node owns the system:
    /// its shutdown runs the system's <see cref="CoordinatedShutdown"/>.
    /// </summary>
    public static Task<WorkerNode> StartAsync(
        WorkerSettings settings,
        ClusterQueueApp app,
        ILoggerFactory? logging,
        Action<TaskLifecycleEvent>? observer,
        ActorSystem? system,
        CancellationToken cancellationToken) =>
        StartAsync(settings, app, logging, observer, system, WorkerSteps.None, cancellationToken);

    /// <summary>
    /// Starts a node with the user's <paramref name="steps"/>: they start once the pool can run tasks and before the
    /// consumers, and stop in the reverse order after the running tasks of a warm shutdown have finished.
    /// </summary>
    /// <exception cref="WorkerStepStartException">A step threw from its start; the node has stopped, and the steps before it too.</exception>
    public static async Task<WorkerNode> StartAsync(
        WorkerSettings settings,
        ClusterQueueApp app,
        ILoggerFactory? logging,
        Action<TaskLifecycleEvent>? observer,
        ActorSystem? system,
        WorkerSteps steps,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(steps);
        settings.Validate();
        if (settings.Autoreload && settings.App is null)
        {
            throw new ArgumentException("cluster-queue.node.autoreload needs a task assembly to watch (--app)", "cluster-queue.node.autoreload");
        }

        logging ??= NullLoggerFactory.Instance;
        var name = settings.ResolveName(Dns.GetHostName());
        if (!string.IsNullOrWhiteSpace(settings.StateDb))
        {
            ClusterQueue.Fabric.ClusterPlane.SqliteDurableStore.Open(settings.StateDb).Dispose();
        }

        system ??= CreateActorSystem(settings, logging);
        NodeFabric fabric;
        try
        {
            await ClusterQueue.Fabric.ClusterPlane.ClusterMembers.JoinAsync(system, settings.Fabric.Cluster, cancellationToken).ConfigureAwait(false);
            ClusterQueue.Fabric.ClusterPlane.ClusterMembers.EnsureNameAvailable(system, name);
            fabric = await NodeFabric.OpenAsync(name, settings, app.Transport, system, logging, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Leaves the cluster, so a refused name or a failed start does not linger as a member.
            await CoordinatedShutdown.Get(system).Run(ColdShutdownReason.Instance).ConfigureAwait(false);
            throw;
        }

        var node = new WorkerNode(settings, app, name, logging, observer, fabric, system, steps);
        try
        {
            // The order BuiltInSteps lists: the pool's slots, then the user's steps, then the consumers and control.
            await node._node.PoolStarted.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            await node._steps.StartAsync(cancellationToken).ConfigureAwait(false);
            node._supervisor.Tell(StartConsumers.Instance);

            // A Python worker's warm shutdown from remote control; run apart, since stopping closes the mailbox that asked.
            var handlers = new WorkerControlHandlers(node._node, fabric, node._supervisor, () => _ = Task.Run(() => node.WarmShutdownAsync()));
            await fabric.StartControlAsync(handlers.CreateRegistry(), node.Load, cancellationToken).ConfigureAwait(false);
            await node._node.Ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await node.ColdShutdownAsync().ConfigureAwait(false);
            throw;
        }

        node.StartSweeper();
        var concurrency = settings.Autoscale.Enabled ? $"{{min={settings.Autoscale.Min}, max={settings.Autoscale.Max}}}" : node._node.Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        node._node.Log.LogInformation("{Node} ready: concurrency {Concurrency}, queues {Queues}", node.Name, concurrency, string.Join(", ", settings.Queues));
        return node;
    }

    /// <summary>
    /// Stops consuming, gives reserved and held messages back to the broker, lets running tasks finish and acks them,
    /// then stops. After <see cref="WorkerSettings.ShutdownTimeout"/> (or when <paramref name="cancellationToken"/>
    /// fires) it turns cold.
    /// </summary>
    public Task WarmShutdownAsync(CancellationToken cancellationToken = default) => StopAsync(cold: false, cancellationToken);

    /// <summary>Stops now: running tasks are cancelled, late-ack messages go back to the broker unacked.</summary>
    public Task ColdShutdownAsync() => StopAsync(cold: true, CancellationToken.None);

    /// <summary>The tasks active, reserved and scheduled on this node now, as <c>celery inspect</c> lists them.</summary>
    internal async Task<WorkerTasks> InspectTasksAsync()
    {
        return await _node.State.Ask<WorkerTasks>(GetWorkerTasks.Instance, AskTimeout).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await ColdShutdownAsync().ConfigureAwait(false);

    private WorkerLoad Load() => new((int)_node.Stats.Active, _node.Stats.Started);

    private async Task StopAsync(bool cold, CancellationToken cancellationToken)
    {
        await _stopping.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (cold && !_node.ColdStopping && _shutdown is { IsCompleted: false })
            {
                // A cold stop during a warm one cuts the wait short.
                await StopRunningAsync().ConfigureAwait(false);
            }

            lock (_gate)
            {
                _shutdown ??= RunShutdownAsync(cold, cancellationToken);
            }
        }
        finally
        {
            _stopping.Release();
        }

        await _shutdown.ConfigureAwait(false);
    }

    private async Task RunShutdownAsync(bool cold, CancellationToken cancellationToken)
    {
        _coldShutdown = cold;
        _shutdownCancellation = cancellationToken;
        try
        {
            // Runs the drain (service-requests-done), then stops the actors and terminates the system.
            await CoordinatedShutdown.Get(_system).Run(cold ? ColdShutdownReason.Instance : WarmShutdownReason.Instance).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _node.Log.LogError(e, "{Node}: the actor system did not stop cleanly", Name);
        }
        finally
        {
            await FinishAsync().ConfigureAwait(false);
        }
    }

    private void OnSystemTerminated()
    {
        lock (_gate)
        {
            if (_shutdown is not null)
            {
                return;
            }

            if (DownedByCluster)
            {
                _node.Log.LogWarning("{Node}: the cluster downed this node (it was on the losing side of a partition); it has stopped", Name);
            }

            _shutdown = FinishAsync();
        }
    }

    /// <summary>After the actor system stopped: closes the broker leases, sends the last events, completes.</summary>
    private async Task FinishAsync()
    {
        try
        {
            await _system.WhenTerminated.WaitAsync(AskTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            _node.Log.LogError(e, "{Node}: the actor tree did not stop within {Timeout}", Name, AskTimeout);
        }

        foreach (var lease in _node.Leases.Keys)
        {
            await lease.CloseAsync().ConfigureAwait(false);
        }

        await StopSweeperAsync().ConfigureAwait(false);

        // Last, so the task events of the final tasks and worker-offline still go out.
        await _taskEvents.DisposeAsync().ConfigureAwait(false);
        await _fabric.DisposeAsync().ConfigureAwait(false);

        _node.Log.LogInformation("{Node} stopped: {Stats}", Name, Stats);
        _completion.TrySetResult();
    }

    /// <summary>Celery's <c>celery.backend_cleanup</c>, run by every worker: deleting expired rows twice costs one empty DELETE.</summary>
    private void StartSweeper()
    {
        if (_node.App.ResultSweepInterval is { } interval && _node.App.HasResultBackend)
        {
            var sweeper = new ResultSweeper(_node.App.Results, interval, _node.Time, _node.Logging.CreateLogger<ResultSweeper>());
            _sweeping = sweeper.RunAsync(_sweeperStop.Token);
        }
    }

    private async Task StopSweeperAsync()
    {
        await _sweeperStop.CancelAsync().ConfigureAwait(false);
        if (_sweeping is { } sweeping)
        {
            await sweeping.ConfigureAwait(false);
        }
    }

    /// <summary>The node's task in Akka's <c>service-requests-done</c> phase; it also runs when a host stops the system first.</summary>
    private async Task<Done> DrainAsync()
    {
        var cold = _coldShutdown;
        try
        {
            await _fabric.StopControlAsync().ConfigureAwait(false);
            await _node.StopConsuming.CancelAsync().ConfigureAwait(false);
            _node.Ready.Abandon(new OperationCanceledException("the node stopped before its consumers connected"));
            if (cold)
            {
                await StopRunningAsync().ConfigureAwait(false);
            }

            var children = await _supervisor.Ask<NodeChildren>(GetNodeChildren.Instance, AskTimeout).ConfigureAwait(false);
            await Task.WhenAll(children.Consumers.Select(StopConsumerAsync)).ConfigureAwait(false);
            await children.Timers.Ask<Drained>(ReleaseHeld.Instance, AskTimeout).ConfigureAwait(false);
            var drained = await children.Pool.Ask<Drained>(DrainReserved.Instance, AskTimeout).ConfigureAwait(false);
            if (!cold)
            {
                await WaitForRunningAsync(drained.Idle, _shutdownCancellation).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _node.Log.LogError(e, "{Node}: shutdown did not go cleanly; stopping anyway", Name);
            await StopRunningAsync().ConfigureAwait(false);
        }

        // After the last task, so a task never finds what a step provides gone; before the actors stop, so a step's
        // actors can still be told to flush.
        await _steps.StopAsync().ConfigureAwait(false);
        return Done.Instance;
    }

    /// <summary>
    /// An actor system of the node's own, with Akka's log events in <paramref name="logging"/>. The drain may take the
    /// whole shutdown timeout, so its phase timeout is that plus a margin: Akka never cuts it short.
    /// </summary>
    private static ActorSystem CreateActorSystem(WorkerSettings settings, ILoggerFactory logging)
    {
        var setup = BootstrapSetup.Create().WithConfig(ActorSystemConfig(settings)).And(new LoggerFactorySetup(logging));
        return ActorSystem.Create(ActorSystemName, setup);
    }

    /// <summary>The name of the actor system a node makes for itself, or that a host makes for it; every member shares it.</summary>
    public const string ActorSystemName = ClusterQueue.Fabric.ClusterPlane.ClusterSettings.SystemName;

    /// <summary>
    /// The Akka config a node's actor system runs with: its <c>akka</c> section, with the drain phase's timeout, the
    /// cluster address, seeds and roles from <c>cluster-queue.cluster</c>, and the state db as the durable store.
    /// </summary>
    public static global::Akka.Configuration.Config ActorSystemConfig(WorkerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var name = settings.ResolveName(Dns.GetHostName());
        var durable = string.IsNullOrWhiteSpace(settings.StateDb)
            ? "akka.cluster.distributed-data.durable.keys = []"
            : $"akka.cluster.distributed-data.durable.sqlite.path = \"{Path.GetFullPath(settings.StateDb).Replace("\\", "\\\\", StringComparison.Ordinal)}\"";
        return ConfigurationFactory.ParseString(
                $"akka.coordinated-shutdown.phases.service-requests-done.timeout = {(long)(settings.ShutdownTimeout + AskTimeout).TotalMilliseconds}ms\n{durable}")
            .WithFallback(settings.Fabric.Cluster.ToAkkaConfig([ClusterQueue.Fabric.ClusterPlane.ClusterMembers.WorkerRole, ClusterQueue.Fabric.ClusterPlane.ClusterMembers.NodeRole(name)]))
            .WithFallback(settings.AkkaConfig);
    }

    /// <summary>Waits until a consumer has handed off what it was handling; one backing off after a fault has nothing in hand.</summary>
    private static async Task StopConsumerAsync(IActorRef consumer)
    {
        try
        {
            await consumer.Ask<ConsumerStopped>(StopConsuming.Instance, ConsumerStopTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
        }
    }

    private async Task WaitForRunningAsync(Task idle, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_node.Settings.ShutdownTimeout);
        try
        {
            // A cold stop asked for meanwhile ends the wait at once, even for tasks that ignore their token.
            await Task.WhenAny(idle, _coldRequested.Task).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _node.Log.LogWarning("{Node}: running tasks did not finish within the shutdown timeout; stopping them", Name);
            await StopRunningAsync().ConfigureAwait(false);
        }
    }

    private async Task StopRunningAsync()
    {
        _node.ColdStopping = true;
        _coldRequested.TrySetResult();
        foreach (var running in _node.Running.Snapshot())
        {
            await running.StopColdAsync().ConfigureAwait(false);
        }
    }
}
