using Akka.Actor;
using Akka.Configuration;
using AkkaConfig = Akka.Configuration.Config;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// How a node joins the Akka.Cluster, bound from <c>cluster-queue.cluster</c> and written into the <c>akka</c> section
/// it starts with (<see cref="ToAkkaConfig"/>): remoting's address, the seed nodes and the member's roles.
/// </summary>
public sealed record ClusterSettings
{
    /// <summary>The actor system name every member shares; a seed address names it: <c>akka.tcp://cluster-queue@host:port</c>.</summary>
    public const string SystemName = "cluster-queue";

    /// <summary>Seed nodes to join through; none makes a cluster of one on this node.</summary>
    public List<string> Seeds { get; init; } = [];

    /// <summary>The interface remoting binds to; loopback by default, so a lone node listens on nothing outside the host.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>The host name other members reach this node by, when it is not <see cref="Hostname"/> (NAT, 0.0.0.0).</summary>
    public string PublicHostname { get; init; } = "";

    /// <summary>Remoting's TCP port; 0 picks a free one, which is right for every node but the seeds.</summary>
    public int Port { get; init; }

    /// <summary>How long a node waits to become Up before it gives up with an error.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a starting node waits for a majority to tell it the revoked ids before it starts from its own copy.</summary>
    public TimeSpan RevocationSyncTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Throws with the setting's full key when a value cannot work.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.cluster.port", Port, "cluster-queue.cluster.port must be 0 (any free port) to 65535");
        }

        if (string.IsNullOrWhiteSpace(Hostname))
        {
            throw new ArgumentException("cluster-queue.cluster.hostname must name an interface, e.g. 127.0.0.1 or 10.0.0.5", "cluster-queue.cluster.hostname");
        }

        if (JoinTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.cluster.join-timeout", JoinTimeout, "cluster-queue.cluster.join-timeout must be positive");
        }

        foreach (var seed in Seeds)
        {
            SeedAddress(seed);
        }
    }

    /// <summary>A seed as an Akka address; anything else is an <see cref="ArgumentException"/> that shows the expected form.</summary>
    public static Address SeedAddress(string seed)
    {
        Address address;
        try
        {
            address = Address.Parse(seed);
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw new ArgumentException($"cluster-queue.cluster.seeds: '{seed}' is not an address like akka.tcp://{SystemName}@10.0.0.5:4053", "cluster-queue.cluster.seeds", e);
        }

        if (address.System != SystemName || address.Host is null || address.Port is not (> 0 and <= 65535))
        {
            throw new ArgumentException($"cluster-queue.cluster.seeds: '{seed}' must name the system {SystemName}, a host and a port, like akka.tcp://{SystemName}@10.0.0.5:4053", "cluster-queue.cluster.seeds");
        }

        return address;
    }

    /// <summary>The akka keys these settings decide, with <paramref name="roles"/> as the member's roles.</summary>
    public AkkaConfig ToAkkaConfig(IEnumerable<string> roles)
    {
        static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var hocon = $$"""
            akka.remote.dot-netty.tcp.hostname = {{Quote(Hostname)}}
            akka.remote.dot-netty.tcp.public-hostname = {{Quote(PublicHostname)}}
            akka.remote.dot-netty.tcp.port = {{Port}}
            akka.cluster.seed-nodes = [{{string.Join(", ", Seeds.Select(Quote))}}]
            akka.cluster.roles = [{{string.Join(", ", roles.Select(Quote))}}]
            """;
        return ConfigurationFactory.ParseString(hocon);
    }
}
