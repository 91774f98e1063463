using System.Reflection;
using System.Text.Json;

namespace ClusterQueue.Client;

/// <summary>The tasks a node can run and a client can name: Celery name to <see cref="TaskDefinition"/>.</summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, TaskDefinition> _tasks = new(StringComparer.Ordinal);
    private readonly JsonSerializerOptions _json;

    public TaskRegistry(JsonSerializerOptions? json = null)
    {
        _json = json ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
    }

    public IReadOnlyCollection<TaskDefinition> Tasks => _tasks.Values;

    /// <summary>Defaults filled into every task's options, now and for tasks registered later.</summary>
    public TaskDefaults Defaults { get; private set; } = new();

    /// <summary>Sets the <c>cluster-queue.task</c> defaults and applies them to every registered task.</summary>
    /// <exception cref="FormatException">A default is invalid; nothing is changed.</exception>
    public TaskRegistry UseDefaults(TaskDefaults defaults)
    {
        defaults.ApplyTo(new TaskOptions());
        Defaults = defaults;
        foreach (var task in _tasks.Values)
        {
            task.ApplyDefaults(defaults);
        }

        return this;
    }

    /// <summary>Registers a delegate, e.g. <c>Register("tasks.add", (int x, int y) =&gt; x + y)</c>.</summary>
    public TaskDefinition Register(string name, Delegate handler, TaskOptions? options = null) =>
        Add(new TaskDefinition(name, handler.Method, handler.Target, options ?? new TaskOptions(), _json));

    /// <summary>Registers every static method marked with <see cref="CeleryTaskAttribute"/> in <paramref name="assembly"/>.</summary>
    public TaskRegistry RegisterAssembly(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<CeleryTaskAttribute>() is { } attribute)
                {
                    Add(new TaskDefinition(attribute.Name, method, null, attribute.ToOptions(), _json));
                }
            }
        }

        return this;
    }

    public bool TryGet(string name, out TaskDefinition definition) => _tasks.TryGetValue(name, out definition!);

    public bool Contains(string name) => _tasks.ContainsKey(name);

    private TaskDefinition Add(TaskDefinition definition)
    {
        definition.ApplyDefaults(Defaults);
        if (!_tasks.TryAdd(definition.Name, definition))
        {
            throw new InvalidOperationException(
                $"task '{definition.Name}' is registered twice: by {Describe(_tasks[definition.Name].Method)} and {Describe(definition.Method)}");
        }

        return definition;
    }

    private static string Describe(MethodInfo method) => $"{method.DeclaringType?.FullName}.{method.Name}";
}
