using System.Text;

namespace ClusterQueue.Config;

/// <summary>Splits and joins HOCON paths such as <c>a.b."c.d"</c>.</summary>
public static class HoconPath
{
    /// <summary>Splits a dotted path; a quoted part may hold dots. Throws <see cref="ConfigException"/> on an empty part.</summary>
    public static IReadOnlyList<string> Split(string path, SourcePosition? position = null)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var quotedPart = false;
        var inQuotes = false;
        foreach (var c in path)
        {
            if (c == '"')
            {
                inQuotes = !inQuotes;
                quotedPart = true;
            }
            else if (c == '.' && !inQuotes)
            {
                Add();
            }
            else
            {
                current.Append(c);
            }
        }

        if (inQuotes)
        {
            throw new ConfigException($"bad path '{path}': expected a closing '\"'", position);
        }

        Add();
        return parts;

        void Add()
        {
            var part = quotedPart ? current.ToString() : current.ToString().Trim();
            if (part.Length == 0 && !quotedPart)
            {
                throw new ConfigException($"bad path '{path}': expected a key between the dots", position);
            }

            parts.Add(part);
            current.Clear();
            quotedPart = false;
        }
    }

    /// <summary>Joins keys with dots, quoting any key that holds a dot or is empty.</summary>
    public static string Join(IEnumerable<string> keys) =>
        string.Join('.', keys.Select(k => k.Length == 0 || k.Contains('.') || k.Contains('"') ? $"\"{k.Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : k));
}
