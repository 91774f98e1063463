using System.Text.Json.Nodes;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Where one pool slot runs task methods: on this process's thread pool (<c>-P threads</c>) or in a child process of
/// its own (<c>-P prefork</c>). The slot's executor owns its runner and disposes of it when the slot is replaced.
/// </summary>
internal interface ISlotRunner : IAsyncDisposable
{
    /// <summary>Completes when the slot can run a task; faults when it never will (a child that did not start).</summary>
    Task Ready { get; }

    /// <summary>Completes when the slot can no longer run anything (its child exited); never, for a thread.</summary>
    Task Lost { get; }

    /// <summary>False once the slot cannot run anything; read before each task, where <see cref="Lost"/> may not have fired yet.</summary>
    bool IsAlive { get; }

    /// <summary>Runs the task's method; it completes or throws as the method does.</summary>
    Task<JsonNode?> InvokeAsync(TaskRequest request, TaskContext context, RunningTask running);

    /// <summary>The hard limit passed, or the slot is going away, while <paramref name="invocation"/> still runs.</summary>
    void Abandon(Task invocation);

    /// <summary>True when the slot must be replaced before its next task (its child died or grew too big, or its code is old).</summary>
    bool MustRetire { get; }
}

/// <summary><c>-P threads</c>: the method runs on the thread pool, on a thread this slot keeps reserved.</summary>
internal sealed class ThreadSlot : ISlotRunner
{
    public static readonly ThreadSlot Instance = new();

    private static readonly Task Never = new TaskCompletionSource().Task;

    public Task Ready => Task.CompletedTask;

    public Task Lost => Never;

    public bool IsAlive => true;

    public bool MustRetire => false;

    // Task.Run keeps a synchronous task method off the executor's mailbox, so the hard limit can fire; the slot's
    // thread-pool reservation (ThreadPoolReservation) keeps a blocking method from starving the actors.
    public Task<JsonNode?> InvokeAsync(TaskRequest request, TaskContext context, RunningTask running) =>
        Task.Run(() => request.Definition.InvokeAsync(context).AsTask());

    /// <summary>
    /// A thread cannot be killed: the method keeps its thread, and a reserved one, until it returns; whatever it throws
    /// then is observed and dropped.
    /// </summary>
    public void Abandon(Task invocation)
    {
        ThreadPoolReservation.Reserve(1);
        _ = invocation.ContinueWith(
            static t =>
            {
                ThreadPoolReservation.Release(1);
                _ = t.Exception;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
