using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>One pool slot: runs one task at a time and reports back when the slot is free or must be replaced.</summary>
/// <remarks>
/// The task's method runs on the thread pool, on a thread this slot keeps reserved (<see cref="ThreadPoolReservation"/>).
/// The pool sends <see cref="Execute"/> only to an idle slot, so this actor does not hold its mailbox while a task runs
/// (Akka's <c>ReceiveAsync</c> would cost three dispatcher round trips per task); it stays free for Akka's system
/// messages, and a stuck method never keeps the node's tree from stopping.
/// </remarks>
internal sealed class TaskExecutor : ReceiveActor
{
    // Cancelled when the executor stops (the node's tree is torn down), so a running task is treated as lost.
    private readonly CancellationTokenSource _stopping = new();
    private readonly NodeServices _node;
    private readonly TaskExecution _execution;
    private readonly IActorRef _self;
    private readonly IActorRef _pool;
    private readonly ISlotRunner _slot;
    private int _tasksRun;

    public TaskExecutor(NodeServices node, TaskExecution execution, ISlotRunner slot)
    {
        _node = node;
        _execution = execution;
        _slot = slot;
        _self = Self;
        _pool = Context.Parent;
        ThreadPoolReservation.Reserve(1);
        Receive<Execute>(execute => _ = RunAsync(execute.Request));
        // A bug in the execution path fails this actor, so the pool's supervision replaces it and settles its message.
        Receive<ExecutionFailed>(failed => throw new InvalidOperationException($"running {failed.Request.Name}[{failed.Request.Id}] failed", failed.Cause));
    }

    protected override void PreStart()
    {
        var (self, pool) = (_self, _pool);
        _slot.Lost.ContinueWith(_ => pool.Tell(new SlotLost(self), self), TaskScheduler.Default);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        ThreadPoolReservation.Release(1);
        // A prefork child is asked to leave, or killed when it is busy; the pool does not wait for it.
        _ = _slot.DisposeAsync().AsTask();
    }

    /// <summary>Runs outside the actor's context: it touches only its own fields, and one task runs at a time.</summary>
    private async Task RunAsync(TaskRequest request)
    {
        bool abandoned;
        try
        {
            await WhenSlotReadyAsync(request).ConfigureAwait(false);
            if (!_slot.IsAlive)
            {
                // Its child died while the slot was idle: the task goes back untouched, and the slot is replaced.
                await request.RequeueAsync().ConfigureAwait(false);
                _node.Unreserved(request);
                _pool.Tell(new ExecutorDone(_self, Retire: true), _self);
                return;
            }

            abandoned = await _execution.RunAsync(request, _slot, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _self.Tell(new ExecutionFailed(request, e), _self);
            return;
        }

        var tasksRun = ++_tasksRun;
        var maxTasks = _node.Settings.MaxTasksPerChild;
        var retire = abandoned || _slot.MustRetire || (maxTasks > 0 && tasksRun >= maxTasks);
        _pool.Tell(new ExecutorDone(_self, retire), _self);
    }

    /// <summary>A slot whose child never started gives its task back untouched (not acked, not started) and fails.</summary>
    private async Task WhenSlotReadyAsync(TaskRequest request)
    {
        try
        {
            await _slot.Ready.ConfigureAwait(false);
        }
        catch
        {
            await request.RequeueAsync().ConfigureAwait(false);
            _node.Unreserved(request);
            throw;
        }
    }

    private sealed record ExecutionFailed(TaskRequest Request, Exception Cause);
}
