using System.Diagnostics.Metrics;
using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>What every actor of one node shares: settings, the app, counters, the event hook, the running-task table.</summary>
internal sealed class NodeServices
{
    private static readonly Counter<long> TaskOutcomes = ClusterQueueTelemetry.Meter.CreateCounter<long>(
        "cluster_queue.worker.tasks", unit: "{task}", description: "Tasks finished on a worker node, by outcome");

    private static readonly Histogram<double> TaskRuntime = ClusterQueueTelemetry.Meter.CreateHistogram<double>(
        "cluster_queue.worker.task.runtime", unit: "s", description: "How long tasks ran");

    /// <summary>The outcome tag of each <see cref="TaskEventKind"/>, made once rather than per finished task.</summary>
    private static readonly string[] OutcomeTags = Enum.GetNames<TaskEventKind>().Select(name => name.ToLowerInvariant()).ToArray();

    private readonly Action<TaskLifecycleEvent> _raise;
    private int _poolSize;

    public NodeServices(WorkerSettings settings, ClusterQueueApp app, string name, ILoggerFactory logging, Action<TaskLifecycleEvent> raise)
    {
        Settings = settings;
        App = app;
        Name = name;
        Logging = logging;
        _raise = raise;
        // Under autoscale Celery sizes the prefetch window from max and starts the pool at min.
        Concurrency = settings.Autoscale.Enabled ? settings.Autoscale.Max : settings.EffectiveConcurrency;
        _poolSize = settings.Autoscale.Enabled ? settings.Autoscale.InitialSize : Concurrency;
        Fair = settings.Optimization == "fair";
        TaskCode = new ClusterQueue.Node.Reload.TaskCode(app.Tasks, settings.App);
        Log = logging.CreateLogger("ClusterQueue.Node.Worker");
        BuiltIns = BuiltInTasks.Create(this);
        Workflow = new WorkflowSteps(this);
    }

    /// <summary>Celery's built-in tasks (celery.chord_unlock); they run in this process whatever the pool.</summary>
    public TaskRegistry BuiltIns { get; }

    /// <summary>Callbacks, chains and chords after a task finishes.</summary>
    public WorkflowSteps Workflow { get; }

    /// <summary>The task called <paramref name="name"/>: a built-in, or one of the app's tasks.</summary>
    public bool TryGetTask(string name, out TaskDefinition definition) =>
        BuiltIns.TryGet(name, out definition) || TaskCode.Registry.TryGet(name, out definition);

    public bool IsBuiltIn(TaskDefinition definition) => BuiltIns.TryGet(definition.Name, out var builtIn) && ReferenceEquals(builtIn, definition);

    public WorkerSettings Settings { get; }

    public ClusterQueueApp App { get; }

    public string Name { get; }

    public ILoggerFactory Logging { get; }

    public ILogger Log { get; }

    /// <summary>The most tasks the node means to run at once: <c>-c</c>, or the autoscale max. Prefetch is sized from it.</summary>
    public int Concurrency { get; }

    public bool Fair { get; }

    public WorkerStats Stats { get; } = new();

    /// <summary>The tasks the node runs now: consumers look requests up here, and autoreload replaces it.</summary>
    public ClusterQueue.Node.Reload.TaskCode TaskCode { get; }

    /// <summary>Completes when the pool's first slots can run tasks (prefork children started); faults when one cannot.</summary>
    public TaskCompletionSource PoolStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A runner for a new pool slot, of the configured pool.</summary>
    public ISlotRunner CreateSlot() => Settings.Pool == "prefork" ? new ClusterQueue.Node.Pool.ChildSlot(this) : ThreadSlot.Instance;

    public RunningTasks Running { get; } = new();

    public RateLimiter RateLimits { get; } = new(TimeProvider.System);

    /// <summary>Rate and time limits changed at run time by the <c>rate_limit</c> and <c>time_limit</c> commands.</summary>
    public TaskLimitOverrides Overrides { get; } = new();

    /// <summary>Tasks started, by name: the <c>total</c> of the <c>stats</c> reply.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, long> TotalByTask { get; } = new(StringComparer.Ordinal);

    /// <summary>Pool slots now; the pool keeps it current as <c>pool_grow</c>, <c>pool_shrink</c> and autoscale resize it.</summary>
    public int PoolSize
    {
        get => Volatile.Read(ref _poolSize);
        set => Volatile.Write(ref _poolSize, value);
    }

    public DateTimeOffset StartedAt { get; } = TimeProvider.System.GetUtcNow();

    /// <summary>The node's revoked ids; a revoked task is discarded when it arrives and again before it starts.</summary>
    public ClusterQueue.Fabric.Revocation.RevokedTaskSet Revoked { get; init; } = new();

    /// <summary>Receives each task event with the details Celery's event carries; null until the fabric is wired.</summary>
    public Action<TaskLifecycleEvent, TaskEventDetail>? ClusterEvents { get; init; }

    public TimeProvider Time { get; } = TimeProvider.System;

    /// <summary>Cancelled when the node stops taking messages (any shutdown); consumers stop reading and do not reconnect.</summary>
    public CancellationTokenSource StopConsuming { get; } = new();

    /// <summary>Set by a cold shutdown: nothing more starts, and what has not started goes back to the broker.</summary>
    public bool ColdStopping { get; set; }

    /// <summary>Every broker consumer opened, so the node can close them all when it stops.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<QueueLease, byte> Leases { get; } = new();

    /// <summary>Completes once every queue has a consumer, or faults when the node stops first.</summary>
    public ConsumersReady Ready { get; init; } = null!;

    /// <summary>The <c>state</c> actor; set by the node supervisor before any other child starts.</summary>
    public IActorRef State { get; set; } = ActorRefs.Nobody;

    /// <summary>A task was accepted from the broker: held for its ETA (<paramref name="scheduled"/>) or reserved.</summary>
    public void Accepted(TaskRequest request, bool scheduled)
    {
        Stats.OnReceived();
        State.Tell(new TaskPhaseChanged(request, scheduled ? TaskPhase.Scheduled : TaskPhase.Reserved));
    }

    /// <summary>A held task reached its ETA and waits for a slot.</summary>
    public void Due(TaskRequest request) => State.Tell(new TaskPhaseChanged(request, TaskPhase.Reserved));

    /// <summary>A task left without running: expired, requeued at shutdown, or dropped with a lost consumer.</summary>
    public void Unreserved(TaskRequest request)
    {
        Stats.OnUnreserved();
        State.Tell(new TaskPhaseChanged(request, TaskPhase.Gone));
    }

    public void Started(TaskRequest request)
    {
        TotalByTask.AddOrUpdate(request.Name, 1, static (_, n) => n + 1);
        request.StartedAt = Time.GetUtcNow();
        Stats.OnStarted();
        State.Tell(new TaskPhaseChanged(request, TaskPhase.Active));
    }

    public void Finished(TaskRequest request)
    {
        Stats.OnFinished();
        State.Tell(new TaskPhaseChanged(request, TaskPhase.Gone));
    }

    /// <summary>Celery's prefetch: concurrency × multiplier unacked messages; 0 (multiplier 0) means no limit.</summary>
    public int BasePrefetch => Concurrency * Settings.PrefetchMultiplier;

    public bool AcksLate(TaskDefinition task) => task.Options.AcksLate ?? Settings.AcksLate;

    public void Raise(TaskEventKind kind, string taskId, string taskName, TimeSpan? runtime = null, ExceptionInfo? exception = null, string? reason = null, TaskEventDetail? detail = null)
    {
        if (kind is TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Retried or TaskEventKind.Revoked or TaskEventKind.Rejected)
        {
            TaskOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeTags[(int)kind]), new KeyValuePair<string, object?>("task", taskName));
        }

        if (runtime is { } elapsed)
        {
            TaskRuntime.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("task", taskName));
        }

        try
        {
            var evt = new TaskLifecycleEvent(kind, taskId, taskName, TaskLifecycleEvent.StateOf(kind), Name, Time.GetUtcNow(), runtime, exception, reason);
            ClusterEvents?.Invoke(evt, detail ?? TaskEventDetail.None);
            _raise(evt);
        }
        catch (Exception e)
        {
            // A subscriber's bug must not turn into a lost ack or a stuck executor.
            Log.LogError(e, "A TaskEvent handler threw for {Kind} {TaskId}", kind, taskId);
        }
    }

    /// <summary>Stores a result unless there is no backend; a backend failure is logged, never thrown into the executor.</summary>
    /// <remarks>The message's reply_to and correlation_id go with it: the rpc backend sends the result there.</remarks>
    public async Task StoreResultAsync(TaskMessage message, TaskResult result)
    {
        result = result with { ReplyTo = message.ReplyTo, CorrelationId = message.CorrelationId };
        if (!App.HasResultBackend)
        {
            return;
        }

        try
        {
            await App.Results.StoreAsync(result).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.LogError(e, "Storing the {Status} result of {TaskId} failed", result.Status, result.TaskId);
        }
    }
}
