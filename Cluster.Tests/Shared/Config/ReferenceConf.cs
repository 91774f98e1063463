using ClusterQueue.Config;

namespace ClusterQueue.Tests.Config;

/// <summary>Reads the embedded reference.conf for tests: its keys and defaults, so that settings records can pin them.</summary>
public static class ReferenceConf
{
    private static readonly Lazy<HoconObject> Tree = new(() =>
        HoconReader.Parse(ClusterQueueConfiguration.ReferenceText(), "reference.conf", _ => null));

    /// <summary>Every leaf key of reference.conf, dotted and in file order (e.g. <c>cluster-queue.node.concurrency</c>).</summary>
    public static IReadOnlyList<string> Keys() => new ReferenceKeys(Tree.Value).Leaves;

    /// <summary>The keys of one section, relative to it: <c>Keys("node")</c> gives <c>concurrency</c>, <c>autoscale.min</c>, ….</summary>
    public static IReadOnlyList<string> Keys(string section)
    {
        var prefix = $"{ClusterQueueConfiguration.RootPath}.{section}.";
        return [.. Keys().Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..])];
    }

    /// <summary>The default text of a scalar setting (null for HOCON null).</summary>
    public static string? Default(string dottedPath) =>
        Tree.Value.Find(HoconPath.Split(dottedPath)) is HoconScalar scalar
            ? scalar.Value
            : throw new KeyNotFoundException($"reference.conf has no scalar setting {dottedPath}");
}
