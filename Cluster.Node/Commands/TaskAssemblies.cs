using System.Reflection;
using System.Runtime.Loader;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// The tasks a worker runs: those of the <c>-A</c> assembly, or the demo tasks when none is given. Only one of the
/// two, as a Celery worker runs its app's tasks only, and so that a user task named like a demo task is no clash.
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

        var assembly = LoadAssembly(appPath);
        try
        {
            registry.RegisterAssembly(assembly);
        }
        catch (ReflectionTypeLoadException e)
        {
            var cause = e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? e.Message;
            throw CommandException.Usage($"--app: cannot load the types of '{appPath}': {cause}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw CommandException.Usage($"--app: '{appPath}': {e.Message}");
        }

        return registry;
    }

    private static Assembly LoadAssembly(string appPath)
    {
        var fullPath = Path.GetFullPath(appPath);
        if (!File.Exists(fullPath))
        {
            throw CommandException.Usage($"--app: no such file '{appPath}' (expected the path of a .NET assembly with [CeleryTask] methods)");
        }

        // The app's own dependencies sit beside it, listed in its deps.json, as for any plug-in.
        var resolver = new AssemblyDependencyResolver(fullPath);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            resolver.ResolveAssemblyToPath(name) is { } path ? context.LoadFromAssemblyPath(path) : null;
        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyPath(fullPath);
        }
        catch (BadImageFormatException)
        {
            throw CommandException.Usage($"--app: '{appPath}' is not a .NET assembly");
        }
        catch (FileLoadException e)
        {
            throw CommandException.Usage($"--app: cannot load '{appPath}': {e.Message}");
        }
    }
}
