using System.Collections.Concurrent;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// The thread of one pool slot, as a task scheduler: the slot's task methods run here, one at a time, and never on the
/// .NET thread pool, where Akka's dispatchers run every actor of the node and of Akka itself. A blocking task method
/// therefore holds only its own slot's thread, like a thread of Celery's thread pool.
/// </summary>
/// <remarks>
/// Akka's own dedicated-thread scheduler is internal to Akka, and .NET has none, so this is the smallest one that
/// serves: a background thread draining a blocking queue. A method that outlives its slot (a hard time limit) keeps the
/// thread until it returns; the thread then ends, because the slot's executor completed the queue when it stopped.
/// Waking the thread costs more than the thread pool's hand-off (a third of a no-op task's throughput on the memory
/// broker, see the README); spinning before blocking was tried and lost more on a 2-core machine than it won.
/// </remarks>
internal sealed class ExecutorThread : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = [];
    private int _threadId;

    public ExecutorThread(string name)
    {
        var thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Starts <paramref name="method"/> on this thread; the returned task completes when the method's own task does.</summary>
    public Task<T> Run<T>(Func<Task<T>> method) =>
        Task.Factory.StartNew(method, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>Takes no more work; the thread ends once the method it runs now, if any, returns.</summary>
    public void Dispose() => _queue.CompleteAdding();

    protected override void QueueTask(Task task)
    {
        if (!_queue.TryAdd(task))
        {
            // The slot stopped: a continuation of its last method that still arrives runs on the thread pool.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Scheduler.TryExecuteTask(state.Task), (Scheduler: this, Task: task), preferLocal: false);
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Environment.CurrentManagedThreadId == _threadId && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
