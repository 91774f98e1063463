using System.Collections.Concurrent;

namespace ClusterQueue.Results;

/// <summary>In-process wake-ups for tasks whose results are awaited, and the shared wait loop.</summary>
internal sealed class ResultWaiters
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> signals = new();

    /// <summary>Wakes everyone waiting on the task so they re-read the store.</summary>
    public void Notify(string taskId)
    {
        if (signals.TryRemove(taskId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    /// <summary>
    /// Re-reads until the state is ready: on every in-process store of the task, and every
    /// <paramref name="pollInterval"/> when other processes may write the store.
    /// </summary>
    public async Task<TaskResult> WaitAsync(
        string taskId,
        Func<CancellationToken, Task<TaskResult?>> read,
        TimeSpan? timeout,
        TimeSpan? pollInterval,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var deadline = timeout is { } limit
            ? new CancellationTokenSource(limit, time)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            while (true)
            {
                // Subscribe before reading so a store between the read and the wait is not missed.
                var signal = signals.GetOrAdd(taskId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                var result = await read(linked.Token).ConfigureAwait(false);
                if (result is { IsReady: true })
                {
                    return result;
                }

                if (pollInterval is { } poll)
                {
                    await Task.WhenAny(signal, Task.Delay(poll, time, linked.Token)).ConfigureAwait(false);
                }
                else
                {
                    await signal.WaitAsync(linked.Token).ConfigureAwait(false);
                }

                linked.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The result of task '{taskId}' was not ready within {timeout}.");
        }
    }
}
