using System.Collections;

namespace ClusterQueue.Protocol;

/// <summary>AMQP header values limited to the field types Python reads back unchanged (see <see cref="Envelope"/>).</summary>
internal static class HeaderValues
{
    /// <summary>
    /// Converts a value to string, int, long (only beyond the int range), double, bool, null, list or ordered dictionary,
    /// or throws an <see cref="ArgumentException"/> naming the header.
    /// </summary>
    public static object? Normalize(object? value, string name) => value switch
    {
        null or string or bool or int or double => value,
        long l => l is >= int.MinValue and <= int.MaxValue ? (object)(int)l : l,
        short or sbyte or byte or ushort => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture),
        uint u => u <= int.MaxValue ? (object)(int)u : (long)u,
        ulong u when u <= long.MaxValue => Normalize((long)u, name),
        float f => (double)f,
        decimal m => (double)m,
        IEnumerable<KeyValuePair<string, object?>> table => NormalizeTable(table, name),
        IEnumerable list and not string => NormalizeList(list, name),
        _ => throw new ArgumentException($"header '{name}' has a value of type {value.GetType().Name}, which AMQP headers cannot carry to Python", nameof(value)),
    };

    /// <summary>Same names in the same order, with equal values (numbers compared by value, containers deeply).</summary>
    public static bool SameHeaders(IReadOnlyList<KeyValuePair<string, object?>> a, IReadOnlyList<KeyValuePair<string, object?>> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Key != b[i].Key || !SameValue(a[i].Value, b[i].Value)) return false;
        }

        return true;
    }

    public static bool SameValue(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (int or long, int or long) => Convert.ToInt64(a, System.Globalization.CultureInfo.InvariantCulture) == Convert.ToInt64(b, System.Globalization.CultureInfo.InvariantCulture),
        (double x, double y) => x.Equals(y),
        (string x, string y) => x == y,
        (bool x, bool y) => x == y,
        (IEnumerable<KeyValuePair<string, object?>> x, IEnumerable<KeyValuePair<string, object?>> y) => SameHeaders(x.ToList(), y.ToList()),
        (IEnumerable x and not string, IEnumerable y and not string) => x.Cast<object?>().SequenceEqual(y.Cast<object?>(), ValueComparer.Instance),
        _ => false,
    };

    private static OrderedDictionary<string, object?> NormalizeTable(IEnumerable<KeyValuePair<string, object?>> table, string name)
    {
        var result = new OrderedDictionary<string, object?>();
        foreach (var (key, item) in table) result[key] = Normalize(item, $"{name}.{key}");
        return result;
    }

    private static List<object?> NormalizeList(IEnumerable list, string name)
    {
        var result = new List<object?>();
        foreach (var item in list) result.Add(Normalize(item, $"{name}[{result.Count}]"));
        return result;
    }

    private sealed class ValueComparer : IEqualityComparer<object?>
    {
        public static readonly ValueComparer Instance = new();

        public new bool Equals(object? x, object? y) => SameValue(x, y);

        public int GetHashCode(object? obj) => 0;
    }
}
