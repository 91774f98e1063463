using System.Collections.Concurrent;
using ClusterQueue.Node.Worker;

namespace ClusterQueue.Node.Demo;

/// <summary>Counts the demo's tasks as the nodes report them finished; completes when every one has.</summary>
public sealed class DemoTracker(IReadOnlyCollection<string> taskIds)
{
    private readonly HashSet<string> _expected = new(taskIds, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskEventKind> _finished = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _allFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _succeeded;
    private long _failed;
    private long _retries;
    private long _lastProgressTicks = Environment.TickCount64;

    public int Total => _expected.Count;

    public int Finished => _finished.Count;

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>How long since a task last finished or retried; the demo gives up when this grows too long.</summary>
    public TimeSpan SinceLastProgress => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastProgressTicks));

    public Task AllFinished => _allFinished.Task;

    public void OnTaskEvent(TaskLifecycleEvent e)
    {
        if (!_expected.Contains(e.TaskId))
        {
            return;
        }

        switch (e.Kind)
        {
            case TaskEventKind.Retried:
                Interlocked.Increment(ref _retries);
                Interlocked.Exchange(ref _lastProgressTicks, Environment.TickCount64);
                break;
            case TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Revoked:
                // A redelivered task may finish twice; count it once.
                if (_finished.TryAdd(e.TaskId, e.Kind))
                {
                    Interlocked.Increment(ref e.Kind == TaskEventKind.Succeeded ? ref _succeeded : ref _failed);
                    Interlocked.Exchange(ref _lastProgressTicks, Environment.TickCount64);
                    if (_finished.Count == _expected.Count)
                    {
                        _allFinished.TrySetResult();
                    }
                }

                break;
        }
    }
}
