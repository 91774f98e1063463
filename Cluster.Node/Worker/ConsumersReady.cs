namespace ClusterQueue.Node.Worker;

/// <summary>Counts down the queues whose consumer has connected once; <see cref="WorkerNode.StartAsync"/> waits on it.</summary>
internal sealed class ConsumersReady(IEnumerable<string> queues)
{
    private readonly HashSet<string> _waiting = new(queues, StringComparer.Ordinal);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _ready.Task;

    public void Connected(string queue)
    {
        lock (_waiting)
        {
            if (_waiting.Remove(queue) && _waiting.Count == 0)
            {
                _ready.TrySetResult();
            }
        }
    }

    public void Abandon(Exception reason) => _ready.TrySetException(reason);
}
