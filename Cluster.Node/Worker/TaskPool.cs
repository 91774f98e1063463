using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// The pool: <c>-c N</c> executor children and the reserved requests waiting for one. A request is handed to an
/// executor only when that executor is idle, so at most N tasks ever run at once. Under autoscale N moves between
/// min and max by load, decided by an <see cref="Autoscaler"/> once a second and on each request, as Celery's does.
/// </summary>
internal sealed class TaskPool : ReceiveActor, IWithTimers
{
    /// <summary>Celery's autoscaler thread looks once a second.</summary>
    private static readonly TimeSpan AutoscaleInterval = TimeSpan.FromSeconds(1);

    private readonly NodeServices _node;
    private readonly TaskExecution _execution;
    private readonly IActorRef _timers;
    private readonly Queue<TaskRequest> _reserved = new();
    private readonly Stack<IActorRef> _idle = new();
    private readonly Dictionary<IActorRef, TaskRequest> _busy = [];
    private readonly HashSet<IActorRef> _consumers = [];
    private TaskCompletionSource? _whenIdle;
    private int _executorCount;
    private int _toRetire;
    private readonly Autoscaler? _autoscaler;
    private bool _draining;

    private ILogger Log { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public TaskPool(NodeServices node, IActorRef timers)
    {
        _node = node;
        _timers = timers;
        _execution = new TaskExecution(node);
        Log = node.Logging.CreateLogger<TaskPool>();
        var autoscale = node.Settings.Autoscale;
        _autoscaler = autoscale.Enabled ? new Autoscaler(autoscale.Max, autoscale.Min, autoscale.Keepalive, node.Time) : null;
        Receive<Reserve>(reserve => OnReserve(reserve.Request));
        Receive<ExecutorDone>(done => OnExecutorDone(done.Executor, done.Retire));
        Receive<RegisterConsumer>(register =>
        {
            _consumers.Add(Context.Watch(register.Consumer));
            register.Consumer.Tell(new PoolCapacity(Free), Self);
        });
        Receive<Terminated>(terminated => OnTerminated(terminated.ActorRef));
        ReceiveAsync<DrainReserved>(_ => DrainAsync());
        Receive<ResizePool>(resize => Sender.Tell(new PoolResized(Resize(resize.Delta)), Self));
        Receive<SlotLost>(lost => ReplaceIdle(lost.Executor));
        Receive<TaskCodeReloaded>(_ => _idle.ToList().ForEach(ReplaceIdle));
        Receive<AutoscaleTick>(_ => MaybeScale());
        Receive<UpdateAutoscale>(update => OnUpdateAutoscale(update));
        Receive<GetAutoscaleState>(_ => Sender.Tell(AutoscaleStateNow(), Self));
    }

    /// <summary>
    /// Requests fair mode may reserve now. Under autoscale the pool can grow to max, so the window counts the slots it
    /// could have; counting only today's slots would keep the load at the pool's size and the pool would never grow.
    /// </summary>
    private int Free => (_autoscaler is { } scaler ? Math.Max(_idle.Count, scaler.Max - _busy.Count) : _idle.Count) - _reserved.Count;

    /// <summary>Celery's <c>qty</c>: requests waiting for a slot and requests running.</summary>
    private int Load => _reserved.Count + _busy.Count;

    protected override SupervisorStrategy SupervisorStrategy() =>
        // An executor that crashed is replaced from the Terminated path, which also settles its message.
        new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        var started = new List<Task>();
        for (var i = 0; i < _node.PoolSize; i++)
        {
            started.Add(StartExecutor());
        }

        if (_autoscaler is not null)
        {
            Timers.StartPeriodicTimer(AutoscaleTick.Instance, AutoscaleTick.Instance, AutoscaleInterval);
        }

        var pool = _node.PoolStarted;
        Task.WhenAll(started).ContinueWith(
            t =>
            {
                if (t.Exception is { } failed)
                {
                    pool.TrySetException(failed.InnerExceptions);
                }
                else
                {
                    pool.TrySetResult();
                }
            },
            TaskScheduler.Default);
    }

    /// <summary>An idle slot that cannot run its next task (its child died, or runs code older than a reload) is replaced now.</summary>
    private void ReplaceIdle(IActorRef executor)
    {
        var remaining = _idle.Where(e => !e.Equals(executor)).Reverse().ToList();
        if (remaining.Count == _idle.Count)
        {
            // Busy, or gone already: a busy slot is replaced when its task is done.
            return;
        }

        _idle.Clear();
        remaining.ForEach(_idle.Push);
        Context.Unwatch(executor);
        Context.Stop(executor);
        StartExecutor();
        Dispatch();
    }

    /// <summary>The pool never goes below one slot: a node that consumes must be able to run what it takes.</summary>
    private int Resize(int delta)
    {
        var target = Math.Max(1, _node.PoolSize + delta);
        for (var size = _node.PoolSize; size < target; size++)
        {
            // A slot still waiting to retire is kept instead of starting a new one.
            if (_toRetire > 0)
            {
                _toRetire--;
            }
            else
            {
                StartExecutor();
            }
        }

        for (var size = _node.PoolSize; size > target; size--)
        {
            if (_idle.TryPop(out var idle))
            {
                Context.Unwatch(idle);
                Context.Stop(idle);
            }
            else
            {
                // Busy: it leaves when its task is done.
                _toRetire++;
            }
        }

        _node.PoolSize = target;
        Dispatch();
        return target;
    }

    /// <summary>One autoscale decision, applied through the same resize as <c>pool_grow</c> and <c>pool_shrink</c>.</summary>
    private void MaybeScale()
    {
        if (_autoscaler is null || _draining)
        {
            return;
        }

        var delta = _autoscaler.Scale(_node.PoolSize, Load);
        if (delta != 0)
        {
            Log.LogInformation("Scaling {Direction} {Slots} slots (load {Load}, range {Min}..{Max})", delta > 0 ? "up" : "down", Math.Abs(delta), Load, _autoscaler.Min, _autoscaler.Max);
            Resize(delta);
        }
    }

    private void OnUpdateAutoscale(UpdateAutoscale update)
    {
        if (_autoscaler is not null)
        {
            var delta = _autoscaler.Update(update.Max, update.Min, _node.PoolSize);
            if (delta != 0)
            {
                Resize(delta);
            }
        }

        Sender.Tell(AutoscaleStateNow(), Self);
    }

    private AutoscaleState AutoscaleStateNow() =>
        _autoscaler is { } scaler ? new AutoscaleState(scaler.Max, scaler.Min, _node.PoolSize, Load) : new AutoscaleState(0, 0, _node.PoolSize, Load);

    /// <summary>Starts a slot; the task completes when it can run tasks (at once for a thread, when its child is up for prefork).</summary>
    private Task StartExecutor()
    {
        var slot = _node.CreateSlot();
        var executor = Context.ActorOf(NodeProps.Of(() => new TaskExecutor(_node, _execution, slot)), $"executor-{++_executorCount}");
        Context.Watch(executor);
        _idle.Push(executor);
        return slot.Ready;
    }

    private void OnReserve(TaskRequest request)
    {
        if (_draining)
        {
            _ = request.RequeueAsync();
            _node.Unreserved(request);
            return;
        }

        if (!request.RateLimitApplied && _node.Overrides.RateLimitOf(request.Definition) is { } limit && !_node.Settings.DisableRateLimits)
        {
            request.RateLimitApplied = true;
            var start = _node.RateLimits.Book(request.Name, limit);
            if (start > _node.Time.GetUtcNow())
            {
                // Celery keeps a rate-limited task in its timer, not on an executor, so other tasks still run.
                _timers.Tell(new Hold(request, start, EtaHeld: false, Self), Self);
                return;
            }
        }

        _reserved.Enqueue(request);
        Dispatch();
        // Celery's event loop also scales on each task message, so a burst need not wait for the next tick.
        MaybeScale();
    }

    private void Dispatch()
    {
        while (_idle.Count > 0 && _reserved.TryDequeue(out var request))
        {
            if (request.Lease.IsClosed || request.IsSettled)
            {
                // Its consumer was lost and the broker has the message again.
                _node.Unreserved(request);
                continue;
            }

            var executor = _idle.Pop();
            _busy[executor] = request;
            executor.Tell(new Execute(request), Self);
        }

        if (_node.Fair)
        {
            var capacity = new PoolCapacity(Free);
            foreach (var consumer in _consumers)
            {
                consumer.Tell(capacity, Self);
            }
        }
    }

    private void OnExecutorDone(IActorRef executor, bool retire)
    {
        if (!_busy.Remove(executor))
        {
            return;
        }

        if (_toRetire > 0)
        {
            _toRetire--;
            Context.Unwatch(executor);
            Context.Stop(executor);
        }
        else if (retire)
        {
            Context.Unwatch(executor);
            Context.Stop(executor);
            StartExecutor();
        }
        else
        {
            _idle.Push(executor);
        }

        CheckIdle();
        Dispatch();
    }

    private void OnTerminated(IActorRef actor)
    {
        if (_consumers.Remove(actor))
        {
            return;
        }

        if (_busy.Remove(actor, out var request))
        {
            Log.LogError("Executor {Executor} died running {Task}[{TaskId}]", actor.Path, request.Name, request.Id);
            var requeue = request.AcksLate && _node.Settings.RejectOnWorkerLost;
            _ = requeue ? request.RequeueAsync() : request.AckAsync();
            StartExecutor();
            CheckIdle();
            Dispatch();
            return;
        }

        var remaining = _idle.Where(e => !e.Equals(actor)).Reverse().ToList();
        if (remaining.Count != _idle.Count)
        {
            _idle.Clear();
            remaining.ForEach(_idle.Push);
            StartExecutor();
        }
    }

    private async Task DrainAsync()
    {
        _draining = true;
        var requeued = new List<Task>();
        while (_reserved.TryDequeue(out var request))
        {
            requeued.Add(request.RequeueAsync());
            _node.Unreserved(request);
        }

        await Task.WhenAll(requeued);
        _whenIdle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CheckIdle();
        Sender.Tell(new Drained(requeued.Count, _whenIdle.Task), Self);
    }

    private void CheckIdle()
    {
        if (_busy.Count == 0)
        {
            _whenIdle?.TrySetResult();
        }
    }

    private sealed class AutoscaleTick
    {
        public static readonly AutoscaleTick Instance = new();
    }
}
