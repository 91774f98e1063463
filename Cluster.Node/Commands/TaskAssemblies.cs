using ClusterQueue.Client;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// The tasks a worker runs: those of the <c>-A</c> assembly, or the demo tasks when none is given. Only one of the
/// two, as a Celery worker runs its app's tasks only, and so that a user task named like a demo task is no clash.
/// The assembly is read from its bytes (<see cref="Reload.TaskCodeVersion"/>), so a deploy may overwrite the file while
/// the worker runs, and autoreload can load the next version beside it.
/// </summary>
public static class TaskAssemblies
{
    /// <summary>Registers the tasks of <paramref name="appPath"/>, or of the DemoTasks library when it is null.</summary>
    /// <exception cref="CommandException">The file is missing, not a .NET assembly, or its tasks cannot be loaded; the message names <c>--app</c>.</exception>
    public static TaskRegistry Load(string? appPath)
    {
        var registry = new TaskRegistry();
        if (appPath is null)
        {
            return registry.RegisterAssembly(typeof(Samples.Tasks).Assembly);
        }

        try
        {
            return Reload.TaskCodeVersion.Load(appPath, collectible: false).Registry;
        }
        catch (Reload.TaskCodeException e)
        {
            throw CommandException.Usage($"--app: {e.Message}");
        }
    }
}
