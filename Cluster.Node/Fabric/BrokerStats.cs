using System.Text.Json.Nodes;
using ClusterQueue.Transport;

namespace ClusterQueue.Node.Fabric;

/// <summary>The <c>broker</c> part of the <c>stats</c> reply, in kombu's <c>Connection.info()</c> shape; the password never appears.</summary>
internal static class BrokerStats
{
    public static JsonObject Describe(string? brokerUrl, ITransport transport)
    {
        Uri? uri = null;
        if (brokerUrl is not null)
        {
            Uri.TryCreate(brokerUrl, UriKind.Absolute, out uri);
        }

        var user = uri?.UserInfo.Split(':', 2)[0];
        var vhost = uri is null ? null : Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        return new JsonObject
        {
            ["hostname"] = string.IsNullOrEmpty(uri?.Host) ? null : uri.Host,
            ["userid"] = string.IsNullOrEmpty(user) ? null : user,
            ["virtual_host"] = uri is null ? null : string.IsNullOrEmpty(vhost) ? "/" : vhost,
            ["port"] = uri is { IsDefaultPort: false } ? uri.Port : null,
            ["insist"] = false,
            ["ssl"] = uri?.Scheme is "amqps",
            ["transport"] = uri?.Scheme ?? transport.GetType().Name,
            ["connect_timeout"] = 4,
            ["transport_options"] = new JsonObject(),
            ["login_method"] = uri?.Scheme is "amqp" or "amqps" ? "PLAIN" : null,
            ["uri_prefix"] = null,
            ["heartbeat"] = 120.0,
            ["failover_strategy"] = "round-robin",
            ["alternates"] = new JsonArray(),
        };
    }
}
