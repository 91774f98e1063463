using Akka.Actor;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Reload;

/// <summary>
/// Autoreload: looks at the task assembly's size and write time every <c>autoreload-interval</c>. A change that has
/// held still for one look is loaded as a new version; requests received from then on run the new code, with threads
/// in the new load context and with prefork in children started after it (each busy child is replaced after its
/// current task). A file that does not load is refused with the reason, and the running version stays.
/// </summary>
/// <remarks>
/// A poll, not a file-system watcher: a deploy writes a file in several steps, and one stable look is what tells a
/// finished write from one in progress, whatever events the copy raised.
/// </remarks>
internal sealed class TaskCodeWatcher : ReceiveActor, IWithTimers
{
    private readonly NodeServices _node;
    private readonly IActorRef _pool;
    private readonly string _path;
    private readonly ILogger _log;
    private FileStamp? _loaded;
    private FileStamp? _seen;
    private TaskCodeVersion? _current;

    public TaskCodeWatcher(NodeServices node, IActorRef pool)
    {
        _node = node;
        _pool = pool;
        _path = node.TaskCode.Path!;
        _log = node.Logging.CreateLogger<TaskCodeWatcher>();
        _loaded = FileStamp.Of(_path);
        _seen = _loaded;
        Receive<Look>(_ => OnLook());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() =>
        Timers.StartPeriodicTimer("look", Look.Instance, _node.Settings.AutoreloadInterval);

    protected override void PostStop() => _current?.Dispose();

    private void OnLook()
    {
        var stamp = FileStamp.Of(_path);
        var settled = stamp == _seen;
        _seen = stamp;
        if (stamp is null || stamp == _loaded || !settled)
        {
            return;
        }

        // Whatever the outcome, this version of the file has had its try; the next change gets the next one.
        _loaded = stamp;
        TaskCodeVersion next;
        try
        {
            next = TaskCodeVersion.Load(_path, _node.TaskCode.Registry.Defaults);
            if (next.Registry.Tasks.Count == 0)
            {
                next.Dispose();
                throw new TaskCodeException($"'{_path}' has no [CeleryTask] methods");
            }
        }
        catch (TaskCodeException e)
        {
            _log.LogError("Autoreload refused the new {Path}: {Reason}; the tasks loaded before keep running", _path, e.Message);
            return;
        }

        var previous = _current;
        _current = next;
        _node.TaskCode.Replace(next.Registry);
        _pool.Tell(TaskCodeReloaded.Instance, Self);
        // Collectible: the old context unloads once the last request that holds one of its tasks is done.
        previous?.Dispose();
        _log.LogInformation(
            "Autoreload loaded the new {Path}: {Count} tasks ({Tasks}), generation {Generation}",
            _path, next.Registry.Tasks.Count, string.Join(", ", next.Registry.Tasks.Select(t => t.Name).Order(StringComparer.Ordinal)), _node.TaskCode.Generation);
    }

    private sealed class Look
    {
        public static readonly Look Instance = new();
    }
}
