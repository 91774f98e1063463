namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// Every ClusterQueue message that crosses Akka.Remote. The marker is bound to Hyperion in reference.conf, and each
/// type that implements it is on Hyperion's allow-list there (<see cref="ClusterSerialization.AllowedTypes"/>); a
/// message naming any other type is refused before it is instantiated.
/// </summary>
/// <remarks>Payloads are the same JSON bodies the broker plane carries, so one codec serves both planes.</remarks>
public interface IClusterMessage;

/// <summary>A remote-control request: kombu's pidbox body (method, arguments, destination, pattern, matcher) and the sender's mailbox clock.</summary>
public sealed record ControlCommand(byte[] Body, long Clock) : IClusterMessage;

/// <summary>One node's answer, the body <c>{"&lt;node&gt;": value}</c> Celery replies with, and the node's mailbox clock.</summary>
public sealed record ControlAnswer(byte[] Body, long Clock) : IClusterMessage;

/// <summary>An event or a <c>task.multi</c> batch as <c>celeryev</c> carries it: its routing key and JSON body.</summary>
public sealed record EventsPublished(string RoutingKey, byte[] Body) : IClusterMessage;

/// <summary>The topics of the cluster plane (Akka.Cluster.Tools' DistributedPubSub).</summary>
public static class ClusterTopics
{
    /// <summary>Every worker subscribes its control actor here; a broadcast is one publish.</summary>
    public const string Control = "cluster-queue.control";

    /// <summary>Task and worker events; the monitor subscribes here.</summary>
    public const string Events = "cluster-queue.events";
}

/// <summary>
/// Hyperion behind an allow-list: the serializer bound to <see cref="IClusterMessage"/> in reference.conf. Hyperion
/// writes type names on the wire; only <see cref="AllowedTypes"/> may be named, and known gadget types never. A message
/// naming any other type is refused before anything is instantiated: remoting logs it and drops the message, and the
/// association stays up.
/// </summary>
/// <remarks>
/// The list lives here rather than in <c>allowed-types</c>: Hyperion 0.12 checks an outgoing type by its full assembly
/// qualified name but lists allowed types by their short one, so a HOCON allow-list refuses every message it lists.
/// This filter accepts both spellings of each allowed type.
/// </remarks>
public sealed class ClusterSerialization : Akka.Serialization.HyperionSerializer
{
    public ClusterSerialization(Akka.Actor.ExtendedActorSystem system)
        : base(system, Akka.Serialization.HyperionSerializerSettings.Default.WithDisallowUnsafeType(true).WithTypeFilter(new AllowList(AllowedTypes)))
    {
    }

    /// <summary>Every type a cluster message may name on the wire.</summary>
    public static IReadOnlyList<Type> AllowedTypes { get; } = [typeof(ControlCommand), typeof(ControlAnswer), typeof(EventsPublished)];

    private sealed class AllowList(IEnumerable<Type> types) : Hyperion.ITypeFilter
    {
        private readonly HashSet<string> names = [.. types.SelectMany(t => new[] { t.AssemblyQualifiedName!, $"{t.FullName}, {t.Assembly.GetName().Name}" })];

        public bool IsAllowed(string typeName) => names.Contains(typeName);
    }
}
