namespace ClusterQueue.Results.Rpc;

/// <summary>The latest state of each task heard on a reply queue, kept until it expires or is forgotten.</summary>
internal sealed class RpcResultBuffer(TimeSpan expires, TimeProvider time)
{
    private readonly Dictionary<string, (TaskResult Result, DateTimeOffset ExpiresAt)> results = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>Keeps the result unless a ready one of higher precedence is already there (a late STARTED, a repeated FAILURE).</summary>
    public bool Put(TaskResult result)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (results.TryGetValue(result.TaskId, out var stored) && stored.ExpiresAt > now
                && !ResultPrecedence.Accepts(stored.Result.Status, result.Status))
            {
                return false;
            }

            results[result.TaskId] = (result, now + expires);
            return true;
        }
    }

    public TaskResult? Get(string taskId)
    {
        lock (gate)
        {
            return results.TryGetValue(taskId, out var stored) && stored.ExpiresAt > time.GetUtcNow() ? stored.Result : null;
        }
    }

    public bool Remove(string taskId)
    {
        lock (gate)
        {
            return results.Remove(taskId);
        }
    }

    public int Sweep(DateTimeOffset now)
    {
        lock (gate)
        {
            var expired = results.Where(pair => pair.Value.ExpiresAt <= now).Select(pair => pair.Key).ToList();
            foreach (var taskId in expired)
            {
                results.Remove(taskId);
            }

            return expired.Count;
        }
    }
}
