namespace ClusterQueue.Config;

/// <summary>A node of a HOCON value tree: object, array, scalar, or (before resolution) a substitution or concatenation.</summary>
public abstract class HoconNode
{
    protected HoconNode(SourcePosition position) => Position = position;

    public SourcePosition Position { get; }
}

/// <summary>A HOCON object; fields keep the order in which they were first defined.</summary>
public sealed class HoconObject : HoconNode
{
    private readonly OrderedDictionary<string, HoconNode> _fields = new(StringComparer.Ordinal);

    public HoconObject(SourcePosition position) : base(position)
    {
    }

    public IEnumerable<KeyValuePair<string, HoconNode>> Fields => _fields;

    public IEnumerable<string> Keys => _fields.Keys;

    public int Count => _fields.Count;

    public HoconNode? this[string key] => _fields.TryGetValue(key, out var node) ? node : null;

    internal void Set(string key, HoconNode value) => _fields[key] = value;

    internal void Remove(string key) => _fields.Remove(key);

    /// <summary>Finds the node at a path of keys, or null when any step is missing or is not an object.</summary>
    public HoconNode? Find(IEnumerable<string> path)
    {
        HoconNode? node = this;
        foreach (var key in path)
        {
            node = node is HoconObject obj ? obj[key] : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }
}

/// <summary>A HOCON array.</summary>
public sealed class HoconArray : HoconNode
{
    public HoconArray(SourcePosition position, IEnumerable<HoconNode>? items = null) : base(position)
    {
        Items = items is null ? [] : [.. items];
    }

    public List<HoconNode> Items { get; }
}

/// <summary>A HOCON scalar kept as its text; <see cref="Value"/> is null for HOCON <c>null</c>.</summary>
public sealed class HoconScalar : HoconNode
{
    public HoconScalar(SourcePosition position, string? value, bool isWhitespace = false) : base(position)
    {
        Value = value;
        IsWhitespace = isWhitespace;
    }

    public string? Value { get; }

    /// <summary>Whitespace between parts of a concatenation: kept inside strings, ignored between objects or arrays.</summary>
    internal bool IsWhitespace { get; }
}

/// <summary>A <c>${path}</c> or <c>${?path}</c> reference, replaced during resolution.</summary>
public sealed class HoconSubstitution : HoconNode
{
    public HoconSubstitution(SourcePosition position, IReadOnlyList<string> path, bool optional, IReadOnlyList<string>? includedAt = null)
        : base(position)
    {
        Path = path;
        Optional = optional;
        IncludedAt = includedAt ?? [];
    }

    /// <summary>Where the file holding this substitution was included; the path is looked up there first, then at the root.</summary>
    public IReadOnlyList<string> IncludedAt { get; }

    public IReadOnlyList<string> Path { get; }

    public bool Optional { get; }

    public string DottedPath => string.Join('.', Path);

    public override string ToString() => Optional ? $"${{?{DottedPath}}}" : $"${{{DottedPath}}}";
}

/// <summary>Adjacent values on one line (<c>${b} suffix</c>, <c>${base} { x = 1 }</c>), joined during resolution.</summary>
public sealed class HoconConcatenation : HoconNode
{
    public HoconConcatenation(SourcePosition position, IEnumerable<HoconNode> parts) : base(position)
    {
        Parts = [.. parts];
    }

    public IReadOnlyList<HoconNode> Parts { get; }
}

/// <summary>
/// A field set again to a substitution or concatenation: an undefined optional value keeps the earlier one, and an
/// object merges over an earlier object, as with literal duplicate keys.
/// </summary>
public sealed class HoconOverride : HoconNode
{
    public HoconOverride(HoconNode previous, HoconNode value) : base(value.Position)
    {
        Previous = previous;
        Value = value;
    }

    public HoconNode Previous { get; }

    public HoconNode Value { get; }
}
