using System.Reflection;
using System.Runtime.Loader;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Reload;

/// <summary>
/// One version of a task assembly, loaded into a load context of its own from the file's bytes. Bytes rather than
/// the path, so the file can be overwritten while this version runs; a collectible context, so a newer version can
/// replace it and the old one is unloaded once its last running task lets go of it.
/// </summary>
internal sealed class TaskCodeVersion : IDisposable
{
    private readonly TaskCodeContext _context;

    private TaskCodeVersion(string path, TaskCodeContext context, Assembly assembly, TaskRegistry registry, FileStamp stamp)
    {
        Path = path;
        Assembly = assembly;
        _context = context;
        Registry = registry;
        Stamp = stamp;
    }

    public string Path { get; }

    /// <summary>The loaded assembly; the worker finds its bootsteps here, so they share static state with its tasks.</summary>
    public Assembly Assembly { get; }

    public TaskRegistry Registry { get; }

    /// <summary>The file's length and write time when it was read.</summary>
    public FileStamp Stamp { get; }

    /// <summary>Loads <paramref name="path"/> and registers its tasks with <paramref name="defaults"/>.</summary>
    /// <exception cref="TaskCodeException">The file is missing, not a .NET assembly, or its tasks cannot be registered.</exception>
    public static TaskCodeVersion Load(string path, TaskDefaults? defaults = null, bool collectible = true)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var stamp = FileStamp.Of(fullPath) ?? throw new TaskCodeException($"no such file '{path}' (expected the path of a .NET assembly with [CeleryTask] methods)");
        var context = new TaskCodeContext(fullPath, collectible);
        try
        {
            var assembly = context.LoadFromBytes(fullPath);
            var registry = new TaskRegistry();
            if (defaults is not null)
            {
                registry.UseDefaults(defaults);
            }

            registry.RegisterAssembly(assembly);
            return new TaskCodeVersion(fullPath, context, assembly, registry, stamp);
        }
        catch (Exception e)
        {
            if (collectible)
            {
                context.Unload();
            }

            throw new TaskCodeException(Reason(path, e), e);
        }
    }

    public void Dispose()
    {
        if (_context.IsCollectible)
        {
            _context.Unload();
        }
    }

    private static string Reason(string path, Exception e) => e switch
    {
        BadImageFormatException => $"'{path}' is not a .NET assembly",
        FileLoadException => $"cannot load '{path}': {e.Message}",
        ReflectionTypeLoadException load => $"cannot load the types of '{path}': {load.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? load.Message}",
        _ => $"'{path}': {e.Message}",
    };

    /// <summary>
    /// Resolves the task assembly's own dependencies beside it, and everything the node itself has (ClusterQueue, Akka,
    /// the framework) from the default context, so <c>[CeleryTask]</c> and <c>TaskContext</c> are the node's own types.
    /// </summary>
    private sealed class TaskCodeContext(string path, bool collectible) : AssemblyLoadContext($"tasks:{System.IO.Path.GetFileName(path)}", collectible)
    {
        private static readonly HashSet<string> NodeAssemblies = ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(System.IO.Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        private readonly AssemblyDependencyResolver _resolver = new(path);

        public Assembly LoadFromBytes(string file)
        {
            using var bytes = new MemoryStream(File.ReadAllBytes(file));
            return LoadFromStream(bytes);
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name ?? "";
            if (NodeAssemblies.Contains(name) || Default.Assemblies.Any(a => string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                return null;
            }

            return _resolver.ResolveAssemblyToPath(assemblyName) is { } dependency ? LoadFromBytes(dependency) : null;
        }
    }
}

/// <summary>A task assembly could not be loaded; the message says which file and why.</summary>
internal sealed class TaskCodeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What a poll compares to see that a file changed, without reading it.</summary>
internal readonly record struct FileStamp(long Length, DateTime LastWriteUtc)
{
    public static FileStamp? Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : null;
    }
}
