using ClusterQueue.Client;

namespace ClusterQueue.Node.Reload;

/// <summary>
/// The task code a node runs now: the registry its consumers look requests up in, the assembly its prefork children
/// load, and a generation that each reload moves on, so a slot can tell that its child runs an older version.
/// </summary>
internal sealed class TaskCode(TaskRegistry registry, string? path)
{
    private volatile TaskRegistry _registry = registry;
    private int _generation;

    public TaskRegistry Registry => _registry;

    /// <summary>The task assembly's path, or null for the demo tasks or tasks registered in code.</summary>
    public string? Path { get; } = path;

    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Requests received from now on use <paramref name="registry"/>; those already received keep the version they had.</summary>
    public void Replace(TaskRegistry registry)
    {
        _registry = registry;
        Interlocked.Increment(ref _generation);
    }
}
