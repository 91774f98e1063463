namespace ClusterQueue.Fabric.Control;

/// <summary>The method names of Celery 5.2.6's control commands and the older names each one also answers to.</summary>
public static class ControlMethods
{
    /// <summary>Aliases from <c>celery.worker.control</c>; a handler registered under a method also gets these names.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> CeleryAliases = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["active"] = ["dump_active"],
        ["reserved"] = ["dump_reserved"],
        ["scheduled"] = ["dump_schedule"],
        ["revoked"] = ["dump_revoked"],
        ["registered"] = ["dump_tasks"],
        ["conf"] = ["dump_conf"],
    };
}
