using System.Text.Json.Nodes;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Node.Fabric;

/// <summary>Binds <see cref="NodeFabricSettings"/> from the loaded configuration, with the non-default settings the <c>conf</c> command shows.</summary>
public static class NodeFabricConfiguration
{
    public static NodeFabricSettings Bind(IConfiguration configuration, string brokerUrl)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new NodeFabricSettings
        {
            Events = configuration.GetSettings<EventsSettings>("events"),
            Control = configuration.GetSettings<ControlSettings>("control"),
            Revocation = configuration.GetSettings<RevocationSettings>("revocation"),
            Mingle = configuration.GetSettings<MingleSettings>("mingle"),
            Cluster = configuration.GetSettings<ClusterQueue.Fabric.ClusterPlane.ClusterSettings>("cluster"),
            BrokerUrl = brokerUrl,
            Conf = NonDefaults(configuration),
        };
    }

    /// <summary>Every key whose value differs from reference.conf, as Celery's <c>conf</c> shows only what was changed.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> NonDefaults(IConfiguration configuration)
    {
        var reference = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;
        var defaults = reference.AsEnumerable().ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var changed = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (value is null || (defaults.TryGetValue(key, out var defaultValue) && defaultValue == value))
            {
                continue;
            }

            changed[key.Replace(':', '.')] = ConfigurationPrinter.MaskValue(key, value) is { } shown ? JsonValue.Create(shown) : null;
        }

        return changed;
    }
}
