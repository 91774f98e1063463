namespace ClusterQueue.Fabric.Control;

/// <summary>The commands a node answers, keyed by method name and alias.</summary>
public sealed class ControlHandlerRegistry
{
    private readonly Dictionary<string, IControlHandler> handlers = new(StringComparer.Ordinal);

    public ControlHandlerRegistry(IEnumerable<IControlHandler>? handlers = null)
    {
        foreach (var handler in handlers ?? []) Add(handler);
    }

    public IReadOnlyCollection<string> Names => handlers.Keys;

    /// <summary>
    /// Adds a handler under its method, its own aliases and Celery's aliases for that method (<see cref="ControlMethods.CeleryAliases"/>);
    /// a name already taken is an error, so two handlers never race for one command.
    /// </summary>
    public ControlHandlerRegistry Add(IControlHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var celery = ControlMethods.CeleryAliases.TryGetValue(handler.Method, out var known) ? known : [];
        foreach (var name in handler.Aliases.Prepend(handler.Method).Concat(celery).Distinct(StringComparer.Ordinal))
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("a control handler's method and aliases must not be empty", nameof(handler));
            if (!handlers.TryAdd(name, handler)) throw new ArgumentException($"control command '{name}' already has a handler", nameof(handler));
        }

        return this;
    }

    public bool TryGet(string method, out IControlHandler handler) => handlers.TryGetValue(method, out handler!);
}
