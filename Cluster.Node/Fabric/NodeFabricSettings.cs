using System.Text.Json.Nodes;
using ClusterQueue.Fabric;

namespace ClusterQueue.Node.Fabric;

/// <summary>The cluster-message settings a worker node runs with: events, remote control, revocation, mingle and cluster membership.</summary>
public sealed record NodeFabricSettings
{
    public EventsSettings Events { get; init; } = new();

    public ControlSettings Control { get; init; } = new();

    public RevocationSettings Revocation { get; init; } = new();

    public MingleSettings Mingle { get; init; } = new();

    /// <summary>How the node joins the Akka.Cluster, from <c>cluster-queue.cluster</c>.</summary>
    public ClusterQueue.Fabric.ClusterPlane.ClusterSettings Cluster { get; init; } = new();

    /// <summary>The broker URL for the <c>broker</c> part of the <c>stats</c> reply; its password is never shown.</summary>
    public string? BrokerUrl { get; init; }

    /// <summary>The settings the <c>conf</c> command reports: those that differ from the defaults, by key.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Conf { get; init; } = new Dictionary<string, JsonNode?>();
}
