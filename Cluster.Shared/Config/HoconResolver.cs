using System.Text;

namespace ClusterQueue.Config;

/// <summary>Replaces substitutions and joins concatenations, in place, detecting cycles.</summary>
internal sealed class HoconResolver
{
    private readonly HoconObject _root;
    private readonly Func<string, string?> _environment;
    private readonly Dictionary<HoconNode, HoconNode?> _resolved = new(ReferenceEqualityComparer.Instance);
    private readonly List<HoconNode> _inProgress = [];

    public HoconResolver(HoconObject root, Func<string, string?> environment)
    {
        _root = root;
        _environment = environment;
    }

    public void ResolveAll() => Resolve(_root);

    private HoconNode? Resolve(HoconNode node)
    {
        switch (node)
        {
            case HoconScalar:
                return node;
            case HoconObject obj:
                foreach (var key in obj.Keys.ToList())
                {
                    var value = Resolve(obj[key]!);
                    if (value is null)
                    {
                        obj.Remove(key);
                    }
                    else
                    {
                        obj.Set(key, value);
                    }
                }

                return obj;
            case HoconArray array:
                var items = array.Items.Select(Resolve).OfType<HoconNode>().ToList();
                array.Items.Clear();
                array.Items.AddRange(items);
                return array;
        }

        if (_resolved.TryGetValue(node, out var done))
        {
            return done;
        }

        if (_inProgress.Contains(node))
        {
            var chain = _inProgress.Skip(_inProgress.IndexOf(node)).OfType<HoconSubstitution>().Select(s => s.ToString());
            throw new ConfigException($"substitution cycle: {string.Join(" -> ", chain.Append(Describe(node)))} refers back to itself", node.Position);
        }

        _inProgress.Add(node);
        var result = node switch
        {
            HoconSubstitution sub => ResolveSubstitution(sub),
            HoconConcatenation concat => ResolveConcatenation(concat),
            HoconOverride overriding => ResolveOverride(overriding),
            _ => throw new InvalidOperationException($"unknown HOCON node {node.GetType().Name}"),
        };
        _inProgress.RemoveAt(_inProgress.Count - 1);
        _resolved[node] = result;
        return result;
    }

    private static string Describe(HoconNode node) => node is HoconSubstitution sub ? sub.ToString() : "a concatenation";

    private HoconNode? ResolveOverride(HoconOverride overriding)
    {
        var value = Resolve(overriding.Value);
        if (value is null)
        {
            return Resolve(overriding.Previous);
        }

        if (value is HoconObject obj && Resolve(overriding.Previous) is HoconObject earlier)
        {
            var merged = new HoconObject(obj.Position);
            MergeInto(merged, earlier);
            MergeInto(merged, obj);
            return merged;
        }

        return value;
    }

    private HoconNode? ResolveSubstitution(HoconSubstitution sub)
    {
        var target = (sub.IncludedAt.Count > 0 ? Lookup([.. sub.IncludedAt, .. sub.Path]) : null) ?? Lookup(sub.Path);
        if (target is not null)
        {
            return target;
        }

        var fromEnvironment = _environment(sub.DottedPath);
        if (fromEnvironment is not null)
        {
            return new HoconScalar(sub.Position, fromEnvironment);
        }

        return sub.Optional
            ? null
            : throw new ConfigException($"unresolved substitution {sub}: expected a setting {sub.DottedPath} or an environment variable of that name", sub.Position);
    }

    /// <summary>Walks the path, resolving only the nodes on the way, so that unrelated fields cannot look like a cycle.</summary>
    private HoconNode? Lookup(IReadOnlyList<string> path)
    {
        HoconNode? node = _root;
        foreach (var key in path)
        {
            if (node is HoconSubstitution or HoconConcatenation or HoconOverride)
            {
                node = Resolve(node);
            }

            node = node is HoconObject obj ? obj[key] : null;
            if (node is null)
            {
                return null;
            }
        }

        return Resolve(node);
    }

    private HoconNode? ResolveConcatenation(HoconConcatenation concat)
    {
        var parts = concat.Parts.Select(Resolve).OfType<HoconNode>().ToList();
        var values = parts.Where(p => p is not HoconScalar { IsWhitespace: true }).ToList();
        if (values.Count == 0)
        {
            return null;
        }

        if (values.All(v => v is HoconObject))
        {
            var merged = new HoconObject(concat.Position);
            foreach (var obj in values.Cast<HoconObject>())
            {
                MergeInto(merged, obj);
            }

            return merged;
        }

        if (values.All(v => v is HoconArray))
        {
            return new HoconArray(concat.Position, values.Cast<HoconArray>().SelectMany(a => a.Items));
        }

        var misfit = values.FirstOrDefault(v => v is HoconObject or HoconArray);
        if (misfit is not null)
        {
            var kind = misfit is HoconObject ? "an object" : "an array";
            throw new ConfigException($"cannot concatenate {kind} with a string: expected values of one kind", concat.Position);
        }

        while (parts.Count > 0 && parts[0] is HoconScalar { IsWhitespace: true })
        {
            parts.RemoveAt(0);
        }

        while (parts.Count > 0 && parts[^1] is HoconScalar { IsWhitespace: true })
        {
            parts.RemoveAt(parts.Count - 1);
        }

        var text = new StringBuilder();
        foreach (var part in parts.Cast<HoconScalar>())
        {
            text.Append(part.Value ?? "null");
        }

        return new HoconScalar(concat.Position, text.ToString());
    }

    /// <summary>Deep merge where <paramref name="source"/> wins; copies objects so that no two fields share one.</summary>
    internal static void MergeInto(HoconObject target, HoconObject source)
    {
        foreach (var (key, value) in source.Fields)
        {
            if (value is HoconObject sourceChild && target[key] is HoconObject targetChild)
            {
                MergeInto(targetChild, sourceChild);
            }
            else
            {
                target.Set(key, Copy(value));
            }
        }
    }

    private static HoconNode Copy(HoconNode node)
    {
        switch (node)
        {
            case HoconObject obj:
                var copy = new HoconObject(obj.Position);
                MergeInto(copy, obj);
                return copy;
            case HoconArray array:
                return new HoconArray(array.Position, array.Items.Select(Copy));
            default:
                return node;
        }
    }
}
