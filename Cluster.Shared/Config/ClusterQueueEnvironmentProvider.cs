using System.Collections;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>
/// Maps <c>CQ_</c> environment variables onto <c>cluster-queue.*</c>: after the prefix, <c>__</c> separates path
/// levels, a single <c>_</c> becomes <c>-</c>, and names are lower-cased. <c>CQ_NODE__PREFETCH_MULTIPLIER=8</c>
/// sets <c>cluster-queue.node.prefetch-multiplier</c>.
/// </summary>
public sealed class ClusterQueueEnvironmentProvider : ConfigurationProvider, IConfigurationOrigin, IConfigurationSource
{
    public const string Prefix = "CQ_";

    /// <summary>Variables that tell the test suite where test.sh started its servers (CQ_TEST_AMQP_URL …); they are not settings.</summary>
    public const string TestServersPrefix = "CQ_TEST_";

    private readonly IDictionary _environment;
    private readonly List<string> _warnings;
    private Dictionary<string, string> _variableByKey = new(StringComparer.OrdinalIgnoreCase);

    public ClusterQueueEnvironmentProvider(IDictionary environment, List<string> warnings)
    {
        _environment = environment;
        _warnings = warnings;
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>The configuration key for a variable name, or null when it is not a well-formed <c>CQ_</c> name.</summary>
    public static string? KeyFor(string variable)
    {
        if (!variable.StartsWith(Prefix, StringComparison.Ordinal) || variable.Length == Prefix.Length)
        {
            return null;
        }

        var levels = variable[Prefix.Length..].Split("__");
        if (levels.Any(l => l.Length == 0 || l.StartsWith('_') || l.EndsWith('_')))
        {
            return null;
        }

        return "cluster-queue:" + string.Join(':', levels.Select(l => l.ToLowerInvariant().Replace('_', '-')));
    }

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in _environment)
        {
            if (entry.Key is not string name || !name.StartsWith(Prefix, StringComparison.Ordinal)
                || name.StartsWith(TestServersPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var key = KeyFor(name);
            if (key is null)
            {
                _warnings.Add($"ignored environment variable {name}: expected a name such as CQ_NODE__PREFETCH_MULTIPLIER");
                continue;
            }

            data[key] = entry.Value?.ToString();
            variables[key] = name;
        }

        Data = data;
        _variableByKey = variables;
    }

    public string? DescribeOrigin(string key) =>
        _variableByKey.TryGetValue(key, out var name) ? $"environment variable {name}" : null;
}

/// <summary>Command-line overrides: keys are HOCON paths (<c>cluster-queue.node.concurrency</c>) or configuration keys.</summary>
public sealed class CommandLineOverridesProvider : ConfigurationProvider, IConfigurationOrigin, IConfigurationSource
{
    private readonly IReadOnlyDictionary<string, string?> _overrides;

    public CommandLineOverridesProvider(IReadOnlyDictionary<string, string?> overrides) => _overrides = overrides;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (path, value) in _overrides)
        {
            var key = path.Contains(':') ? path : ConfigurationPath.Combine(HoconPath.Split(path));
            data[key] = value;
        }

        Data = data;
    }

    public string? DescribeOrigin(string key) => TryGet(key, out _) ? "a command-line flag" : null;
}
