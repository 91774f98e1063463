using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>Prints a configuration tree as HOCON or JSON, masking passwords, secrets and URL credentials.</summary>
public static class ConfigurationPrinter
{
    public const string Mask = "****";

    private static readonly string[] SecretWords = ["password", "secret", "token", "passphrase", "credential"];

    /// <summary>The value to show for <paramref name="key"/>: masked when the key names a secret or a URL carries a password.</summary>
    public static string? MaskValue(string key, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value;
        }

        var name = key[(key.LastIndexOfAny([':', '.']) + 1)..];
        if (SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase)))
        {
            return Mask;
        }

        // A broker or result URL may carry a password: amqp://user:secret@host.
        var parsed = Uri.TryCreate(value, UriKind.Absolute, out var uri);
        if (parsed && uri!.UserInfo.Contains(':'))
        {
            var user = uri.UserInfo[..uri.UserInfo.IndexOf(':')];
            var at = value.IndexOf('@', StringComparison.Ordinal);
            return $"{uri.Scheme}://{user}:{Mask}{value[at..]}";
        }

        // One that Uri cannot read may carry one as well: a PostgreSQL host list (postgresql://u:secret@h1,h2/db), a
        // password with an unescaped '/' or '#'. The credentials end at the last '@' before the query.
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (!parsed && scheme > 0)
        {
            var query = value.IndexOf('?', scheme);
            var at = value.LastIndexOf('@', query < 0 ? value.Length - 1 : query);
            var colon = at > scheme ? value.IndexOf(':', scheme + 3, at - scheme - 3) : -1;
            if (colon >= 0)
            {
                return $"{value[..(colon + 1)]}{Mask}{value[at..]}";
            }
        }

        // A connection string may carry one too: Host=...;Password=secret.
        if (value.Contains('=', StringComparison.Ordinal) && value.Contains(';', StringComparison.Ordinal))
        {
            return string.Join(';', value.Split(';').Select(part =>
                part.Split('=', 2) is [var k, _] && SecretWords.Any(w => k.Trim().Contains(w, StringComparison.OrdinalIgnoreCase)) ? $"{k}={Mask}" : part));
        }

        return value;
    }

    /// <summary>
    /// Writes <paramref name="section"/> as a HOCON object, keys in the order of <paramref name="keyOrder"/> (dotted paths),
    /// then by name. Secrets are masked unless <paramref name="mask"/> is false, which is only for text a program reads
    /// (Akka's own config), never for text shown to a person.
    /// </summary>
    public static string ToHocon(IConfigurationSection section, IReadOnlyList<string>? keyOrder = null, bool mask = true)
    {
        var text = new StringBuilder();
        text.Append(section.Key).Append(" {\n");
        WriteHoconChildren(section, text, 1, Rank(keyOrder), mask);
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>Writes <paramref name="section"/> as an indented JSON object; values stay strings, as configuration holds them.</summary>
    public static string ToJson(IConfigurationSection section, IReadOnlyList<string>? keyOrder = null) => ToJson([section], keyOrder);

    /// <summary>Writes <paramref name="sections"/> as the members of one indented JSON object.</summary>
    public static string ToJson(IReadOnlyList<IConfigurationSection> sections, IReadOnlyList<string>? keyOrder = null)
    {
        ArgumentNullException.ThrowIfNull(sections);
        var rank = Rank(keyOrder);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var section in sections)
            {
                writer.WritePropertyName(section.Key);
                WriteJson(section, writer, rank);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static bool IsArray(List<IConfigurationSection> children) =>
        children.Count > 0 && children.Select((c, i) => c.Key == i.ToString(CultureInfo.InvariantCulture)).All(same => same);

    /// <summary>For every dotted path and each of its prefixes, the position of its first appearance in <paramref name="keyOrder"/>.</summary>
    private static Dictionary<string, int> Rank(IReadOnlyList<string>? keyOrder)
    {
        var rank = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (keyOrder?.Count ?? 0); i++)
        {
            var path = keyOrder![i];
            for (var end = path.Length; end > 0; end = path.LastIndexOf('.', end - 1))
            {
                rank.TryAdd(path[..end], i);
            }
        }

        return rank;
    }

    private static List<IConfigurationSection> OrderedChildren(IConfigurationSection section, Dictionary<string, int> rank) =>
        [.. section.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, out var i) ? i : -1)
            .ThenBy(c => rank.GetValueOrDefault(c.Path.Replace(':', '.'), int.MaxValue))
            .ThenBy(c => c.Key, StringComparer.Ordinal)];

    private static void WriteHoconChildren(IConfigurationSection section, StringBuilder text, int depth, Dictionary<string, int> rank, bool mask)
    {
        var indent = new string(' ', depth * 2);
        foreach (var child in OrderedChildren(section, rank))
        {
            var key = HoconPath.Join([child.Key]);
            var grandchildren = OrderedChildren(child, rank);
            // A value set over a list (CQ_NODE__QUEUES=a,b) replaces the list, as the settings binder reads it.
            if (grandchildren.Count == 0 || child.Value is not null)
            {
                text.Append(indent).Append(key).Append(" = ").Append(HoconScalar(child, mask)).Append('\n');
            }
            else if (IsArray(grandchildren))
            {
                text.Append(indent).Append(key).Append(" = [")
                    .Append(string.Join(", ", grandchildren.Select(c => HoconScalar(c, mask)))).Append("]\n");
            }
            else
            {
                text.Append(indent).Append(key).Append(" {\n");
                WriteHoconChildren(child, text, depth + 1, rank, mask);
                text.Append(indent).Append("}\n");
            }
        }
    }

    private static string HoconScalar(IConfigurationSection section, bool mask)
    {
        var value = mask ? MaskValue(section.Path, section.Value) : section.Value;
        if (value is null)
        {
            return "null";
        }

        // Numbers, booleans, durations and plain words read the same unquoted; anything else is quoted.
        var bare = value.Length > 0 && value != "null" && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
        return bare ? value : JsonSerializer.Serialize(value);
    }

    private static void WriteJson(IConfigurationSection section, Utf8JsonWriter writer, Dictionary<string, int> rank)
    {
        var children = OrderedChildren(section, rank);
        if (children.Count == 0 || section.Value is not null)
        {
            var value = MaskValue(section.Path, section.Value);
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(value);
            }
        }
        else if (IsArray(children))
        {
            writer.WriteStartArray();
            children.ForEach(c => WriteJson(c, writer, rank));
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteStartObject();
            foreach (var child in children)
            {
                writer.WritePropertyName(child.Key);
                WriteJson(child, writer, rank);
            }

            writer.WriteEndObject();
        }
    }
}
