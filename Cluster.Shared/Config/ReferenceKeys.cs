namespace ClusterQueue.Config;

/// <summary>The settings that reference.conf declares: its leaf paths, and the open places (arrays, empty objects) under which any key may go.</summary>
public sealed class ReferenceKeys
{
    private readonly HashSet<string> _leaves = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _openPrefixes = [];

    private readonly List<string> _leavesInOrder = [];

    public ReferenceKeys(HoconObject reference) => Walk(reference, []);

    /// <summary>Every leaf path, dotted, in reference order.</summary>
    public IReadOnlyList<string> Leaves => _leavesInOrder;

    public bool IsKnown(string dottedPath) =>
        _leaves.Contains(dottedPath)
        || _openPrefixes.Any(p => dottedPath.StartsWith(p + ".", StringComparison.OrdinalIgnoreCase));

    /// <summary>The known path closest to <paramref name="dottedPath"/> by edit distance.</summary>
    public string? Nearest(string dottedPath) =>
        Leaves.MinBy(known => EditDistance(known, dottedPath));

    private void Walk(HoconNode node, List<string> path)
    {
        var dotted = string.Join('.', path);
        switch (node)
        {
            case HoconObject { Count: 0 } when path.Count > 0:
            case HoconArray when path.Count > 0:
                _openPrefixes.Add(dotted);
                AddLeaf(dotted);
                break;
            case HoconObject obj:
                foreach (var (key, value) in obj.Fields)
                {
                    path.Add(key);
                    Walk(value, path);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            default:
                AddLeaf(dotted);
                break;
        }
    }

    private void AddLeaf(string dotted)
    {
        _leaves.Add(dotted);
        _leavesInOrder.Add(dotted);
    }

    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
