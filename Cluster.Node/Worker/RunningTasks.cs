using System.Collections.Concurrent;

namespace ClusterQueue.Node.Worker;

/// <summary>The tasks on an executor right now, with their cancellation, so shutdown can wait for them or stop them.</summary>
internal sealed class RunningTasks
{
    private readonly ConcurrentDictionary<TaskRequest, RunningTask> _running = new();

    public int Count => _running.Count;

    public RunningTask Add(TaskRequest request)
    {
        var running = new RunningTask(request);
        _running[request] = running;
        return running;
    }

    public void Remove(RunningTask running)
    {
        _running.TryRemove(running.Request, out _);
        running.Finished.TrySetResult();
    }

    public IReadOnlyList<RunningTask> Snapshot() => _running.Values.ToList();

    /// <summary>Completes when every task running now has finished.</summary>
    public Task WhenAllFinished() => Task.WhenAll(_running.Values.Select(r => r.Finished.Task));
}

/// <summary>One task on an executor.</summary>
internal sealed class RunningTask(TaskRequest request) : IDisposable
{
    public TaskRequest Request { get; } = request;

    public CancellationTokenSource Cancellation { get; } = new();

    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set by a cold shutdown: the task's outcome is not recorded, and a late-ack message goes back to the queue.</summary>
    public bool ColdStopped { get; private set; }

    public bool SoftLimitHit { get; set; }

    /// <summary>Set by <c>revoke</c> with terminate: the task is recorded as revoked, whatever it does after its token fires.</summary>
    public bool Terminated { get; private set; }

    /// <summary>Celery's terminate with SIGTERM: threads cannot be killed, so the task's token fires and its outcome becomes REVOKED.</summary>
    public async Task TerminateAsync()
    {
        Terminated = true;
        await Cancellation.CancelAsync().ConfigureAwait(false);
    }

    public async Task StopColdAsync()
    {
        ColdStopped = true;
        if (Request.AcksLate)
        {
            await Request.RequeueAsync().ConfigureAwait(false);
        }

        await Cancellation.CancelAsync().ConfigureAwait(false);
    }

    public void Dispose() => Cancellation.Dispose();
}
