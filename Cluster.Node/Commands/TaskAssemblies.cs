using ClusterQueue.Client;
using ClusterQueue.Node.Steps;

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
    public static TaskRegistry Load(string? appPath) => LoadApp(appPath).Tasks;

    /// <summary>The tasks and the bootsteps of <paramref name="appPath"/>; the demo tasks have no steps.</summary>
    /// <exception cref="CommandException">
    /// The file cannot be loaded (<see cref="ExitCodes.Usage"/>), or a step class cannot be made (<see cref="ExitCodes.ConfigError"/>).
    /// </exception>
    public static TaskApp LoadApp(string? appPath)
    {
        if (appPath is null)
        {
            return new TaskApp(new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly), []);
        }

        Reload.TaskCodeVersion version;
        try
        {
            version = Reload.TaskCodeVersion.Load(appPath, collectible: false);
        }
        catch (Reload.TaskCodeException e)
        {
            throw CommandException.Usage($"--app: {e.Message}");
        }

        try
        {
            return new TaskApp(version.Registry, WorkerStepDiscovery.FromAssembly(version.Assembly));
        }
        catch (WorkerStepConfigException e)
        {
            throw new CommandException(ExitCodes.ConfigError, $"--app: {e.Message}");
        }
    }
}

/// <summary>What a worker takes from its task assembly: the tasks, and the bootsteps in the order found.</summary>
public sealed record TaskApp(TaskRegistry Tasks, IReadOnlyList<IWorkerStep> Steps);
