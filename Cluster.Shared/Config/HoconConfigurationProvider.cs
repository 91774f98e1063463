using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>A configuration provider that can say where a key's value was set, for error messages.</summary>
public interface IConfigurationOrigin
{
    /// <summary>Describes where <paramref name="key"/> was set ("node.conf:3:17"), or null when this provider lacks it.</summary>
    string? DescribeOrigin(string key);
}

/// <summary>One HOCON input of a <see cref="HoconConfigurationSource"/>: a file (which may be optional) or a text.</summary>
public sealed record HoconInput(string? FilePath, string? Text, string SourceName, bool Optional = false)
{
    public static HoconInput File(string path, bool optional = false) => new(path, null, path, optional);

    public static HoconInput String(string text, string sourceName) => new(null, text, sourceName);
}

/// <summary>Configuration source for one or more HOCON inputs read into a single tree, in order.</summary>
public sealed class HoconConfigurationSource : IConfigurationSource
{
    public required IReadOnlyList<HoconInput> Inputs { get; init; }

    /// <summary>Looks up substitution paths not found in the tree; the process environment when null.</summary>
    public Func<string, string?>? Environment { get; init; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new HoconConfigurationProvider(this);
}

/// <summary>Flattens a resolved HOCON tree into configuration keys: <c>a.b.c</c> becomes <c>a:b:c</c>, array items <c>a:b:0</c>.</summary>
public sealed class HoconConfigurationProvider : ConfigurationProvider, IConfigurationOrigin
{
    private readonly HoconConfigurationSource _source;
    private Dictionary<string, SourcePosition> _origins = new(StringComparer.OrdinalIgnoreCase);

    public HoconConfigurationProvider(HoconConfigurationSource source) => _source = source;

    /// <summary>The resolved tree of the last load.</summary>
    public HoconObject? Root { get; private set; }

    public override void Load()
    {
        var reader = new HoconReader();
        foreach (var input in _source.Inputs)
        {
            if (input.Text is not null)
            {
                reader.ReadString(input.Text, input.SourceName);
            }
            else if (input.FilePath is not null && (!input.Optional || File.Exists(input.FilePath)))
            {
                reader.ReadFile(input.FilePath);
            }
        }

        var root = reader.Resolve(_source.Environment);
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var origins = new Dictionary<string, SourcePosition>(StringComparer.OrdinalIgnoreCase);
        Flatten(root, null, data, origins);
        Data = data;
        _origins = origins;
        Root = root;
    }

    public string? DescribeOrigin(string key) => _origins.TryGetValue(key, out var position) ? position.ToString() : null;

    private static void Flatten(HoconNode node, string? prefix, Dictionary<string, string?> data, Dictionary<string, SourcePosition> origins)
    {
        switch (node)
        {
            case HoconObject obj:
                foreach (var (key, value) in obj.Fields)
                {
                    Flatten(value, prefix is null ? key : ConfigurationPath.Combine(prefix, key), data, origins);
                }

                break;
            case HoconArray array:
                for (var i = 0; i < array.Items.Count; i++)
                {
                    Flatten(array.Items[i], ConfigurationPath.Combine(prefix!, i.ToString(CultureInfo.InvariantCulture)), data, origins);
                }

                break;
            case HoconScalar scalar when prefix is not null:
                data[prefix] = scalar.Value;
                origins[prefix] = scalar.Position;
                break;
        }
    }
}

/// <summary>Adds HOCON sources to a configuration builder.</summary>
public static class HoconConfigurationExtensions
{
    /// <summary>Adds a HOCON file; when <paramref name="optional"/> is false a missing file is a <see cref="ConfigException"/>.</summary>
    public static IConfigurationBuilder AddHoconFile(this IConfigurationBuilder builder, string path, bool optional = false) =>
        builder.Add(new HoconConfigurationSource { Inputs = [HoconInput.File(path, optional)] });

    /// <summary>Adds HOCON text; <paramref name="sourceName"/> is the name errors report in place of a file.</summary>
    public static IConfigurationBuilder AddHoconString(this IConfigurationBuilder builder, string text, string sourceName) =>
        builder.Add(new HoconConfigurationSource { Inputs = [HoconInput.String(text, sourceName)] });
}
