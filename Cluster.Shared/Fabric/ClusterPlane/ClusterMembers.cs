using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using ClusterQueue.Fabric.Membership;
using AkkaCluster = Akka.Cluster.Cluster;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>One member as Akka.Cluster sees it: its node name, remoting address, status and roles.</summary>
/// <remarks><c>Status</c> is Akka's member status (Joining, Up, Leaving, Exiting, Down...), or <c>Unreachable</c> while the failure detector says so.</remarks>
public sealed record ClusterMember(string Node, string Address, string Status, IReadOnlyList<string> Roles)
{
    public bool IsUp => Status == nameof(MemberStatus.Up);
}

/// <summary>Joining the cluster, and the membership a node reports: what Akka.Cluster's gossip says, not a guess from heartbeats.</summary>
public static class ClusterMembers
{
    /// <summary>Role of a worker node.</summary>
    public const string WorkerRole = "worker";

    /// <summary>Role of a monitor node.</summary>
    public const string MonitorRole = "monitor";

    /// <summary>Role of a beat member, one of which holds the periodic-task scheduler; it consumes no tasks.</summary>
    public const string BeatRole = "beat";

    /// <summary>Each member carries its node name as a role, so every member knows every name from gossip alone.</summary>
    public const string NodeRolePrefix = "node:";

    public static string NodeRole(string nodeName) => NodeRolePrefix + nodeName;

    /// <summary>
    /// Joins the seeds (a cluster of one when there are none) and waits until this member is Up.
    /// </summary>
    /// <exception cref="ClusterJoinException">The member was not Up within the join timeout.</exception>
    public static async Task JoinAsync(ActorSystem system, ClusterSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        var cluster = AkkaCluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (settings.Seeds.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            cluster.JoinSeedNodes(settings.Seeds.Select(ClusterSettings.SeedAddress));
        }

        try
        {
            await up.Task.WaitAsync(settings.JoinTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var through = settings.Seeds.Count == 0 ? "itself" : "the seeds " + string.Join(", ", settings.Seeds);
            throw new ClusterJoinException(
                $"could not join the cluster through {through} within {settings.JoinTimeout.TotalSeconds:0.#} s (cluster-queue.cluster.join-timeout); check that a seed runs and that {cluster.SelfAddress} is reachable from it");
        }
    }

    /// <summary>
    /// Refuses <paramref name="nodeName"/> when an older reachable member already carries it: two nodes under one name
    /// would split its replies. Of two nodes that start at once under one name, the younger gives way.
    /// </summary>
    /// <exception cref="NodeNameInUseException">An older member has this name.</exception>
    public static void EnsureNameAvailable(ActorSystem system, string nodeName)
    {
        var cluster = AkkaCluster.Get(system);
        var state = cluster.State;
        var self = state.Members.FirstOrDefault(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
        var role = NodeRole(nodeName);
        var taken = state.Members.Any(m =>
            !m.UniqueAddress.Equals(cluster.SelfUniqueAddress)
            && m.HasRole(role)
            && m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up
            && !state.Unreachable.Contains(m)
            && (self is null || m.IsOlderThan(self)));
        if (taken)
        {
            throw new NodeNameInUseException(nodeName);
        }
    }

    /// <summary>Every member this node knows, by node name.</summary>
    public static IReadOnlyList<ClusterMember> Snapshot(ActorSystem system)
    {
        var state = AkkaCluster.Get(system).State;
        return [.. state.Members
            .Select(m => new ClusterMember(
                NodeName(m),
                m.Address.ToString(),
                state.Unreachable.Contains(m) ? "Unreachable" : m.Status.ToString(),
                [.. m.Roles.Where(r => !r.StartsWith(NodeRolePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)]))
            .OrderBy(m => m.Node, StringComparer.Ordinal)];
    }

    /// <summary>The <c>members</c> reply: <c>{"members": [{"node", "address", "status", "roles"}]}</c>.</summary>
    public static JsonObject ToJson(IReadOnlyList<ClusterMember> members) => new()
    {
        ["members"] = new JsonArray([.. members.Select(m => (JsonNode?)new JsonObject
        {
            ["node"] = m.Node,
            ["address"] = m.Address,
            ["status"] = m.Status,
            ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode?)r)]),
        })]),
    };

    /// <summary>Reads a <c>members</c> reply; a malformed one is a <see cref="FabricMessageException"/>.</summary>
    public static IReadOnlyList<ClusterMember> FromJson(JsonNode? reply)
    {
        if (reply is not JsonObject { } obj || obj["members"] is not JsonArray list)
        {
            throw new FabricMessageException("a members reply must be an object with a 'members' list");
        }

        return [.. list.Select(item => item is JsonObject m
            ? new ClusterMember(
                (string?)m["node"] ?? "",
                (string?)m["address"] ?? "",
                (string?)m["status"] ?? "",
                m["roles"] is JsonArray roles ? [.. roles.Select(r => (string?)r ?? "")] : [])
            : throw new FabricMessageException("each member in a members reply must be an object"))];
    }

    private static string NodeName(Member member) =>
        member.Roles.FirstOrDefault(r => r.StartsWith(NodeRolePrefix, StringComparison.Ordinal)) is { } role ? role[NodeRolePrefix.Length..] : member.Address.ToString();
}

/// <summary>A node could not join the cluster in time.</summary>
public sealed class ClusterJoinException(string message) : Exception(message);
