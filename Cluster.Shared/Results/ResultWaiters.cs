namespace ClusterQueue.Results;

/// <summary>In-process wake-ups for tasks whose results are awaited, and the shared wait loop.</summary>
internal sealed class ResultWaiters
{
    // Entries live only while someone waits, so waiting on tasks that never report (ignore_result) leaks nothing.
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>Wakes everyone waiting on the task so they re-read the store.</summary>
    public void Notify(string taskId)
    {
        TaskCompletionSource? fired;
        lock (gate)
        {
            if (!entries.TryGetValue(taskId, out var entry))
            {
                return;
            }

            fired = entry.Signal;
            entry.Signal = NewSignal();
        }

        fired.TrySetResult();
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
        var entry = Join(taskId);
        try
        {
            while (true)
            {
                // Take the signal before reading so a store between the read and the wait is not missed.
                Task signal;
                lock (gate)
                {
                    signal = entry.Signal.Task;
                }

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
        finally
        {
            Leave(taskId, entry);
        }
    }

    /// <summary>How many tasks have someone waiting on them.</summary>
    internal int WatchedTasks
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    private Entry Join(string taskId)
    {
        lock (gate)
        {
            if (!entries.TryGetValue(taskId, out var entry))
            {
                entry = new Entry { Signal = NewSignal() };
                entries.Add(taskId, entry);
            }

            entry.Waiters++;
            return entry;
        }
    }

    private void Leave(string taskId, Entry entry)
    {
        lock (gate)
        {
            if (--entry.Waiters == 0)
            {
                entries.Remove(taskId);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Entry
    {
        public required TaskCompletionSource Signal { get; set; }

        public int Waiters { get; set; }
    }
}
