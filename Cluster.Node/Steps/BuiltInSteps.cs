using ClusterQueue.Node.Worker;

namespace ClusterQueue.Node.Steps;

/// <summary>One part a worker node starts on its own; the banner lists them, and user steps may require them by name.</summary>
/// <param name="BeforeUserSteps">It has started when the first user step starts; user steps may require only these.</param>
public sealed record BuiltInStep(string Name, string Job, bool BeforeUserSteps);

/// <summary>
/// The parts of a worker node in the order <c>WorkerNode.StartAsync</c> starts them, as Celery's worker and consumer blueprints name theirs (Timer, Pool, Autoscaler, StateDB, Connection,
/// Mingle, Events, Heart, Control, Tasks). User steps start between <c>autoreload</c> and <c>consumers</c>.
/// </summary>
public static class BuiltInSteps
{
    public const string Cluster = "cluster";
    public const string Revocations = "revocations";
    public const string Events = "events";
    public const string Mingle = "mingle";
    public const string State = "state";
    public const string Timers = "timers";
    public const string Pool = "pool";
    public const string Autoreload = "autoreload";
    public const string Consumers = "consumers";
    public const string Control = "control";
    public const string Heartbeat = "heartbeat";

    /// <summary>Every built-in part, whether or not a given node runs it, so a step that requires an optional one still loads.</summary>
    public static IReadOnlyList<BuiltInStep> All { get; } =
    [
        new(Cluster, "joins the Akka cluster; refuses a node name in use", true),
        new(Revocations, "the replicated revoked task ids (kept in the state db)", true),
        new(Events, "the event dispatcher (cluster topic and celeryev)", true),
        new(Mingle, "hello to the other workers: their revoked ids and clock", true),
        new(State, "active, reserved and scheduled tasks, for inspect", true),
        new(Timers, "holds ETA and countdown tasks until they are due", true),
        new(Pool, "the slots that run tasks", true),
        new(Autoreload, "watches the --app assembly and loads a new version", true),
        new(Consumers, "one consumer per queue", false),
        new(Control, "remote control on the cluster and the broker's pidbox", false),
        new(Heartbeat, "worker-online, then a worker-heartbeat every interval", false),
    ];

    /// <summary>The built-in parts <paramref name="settings"/> turns on, in start order.</summary>
    public static IReadOnlyList<BuiltInStep> For(WorkerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return All.Where(step => step.Name switch
        {
            Mingle => settings.Fabric.Mingle.Enabled,
            Autoreload => settings.Autoreload,
            _ => true,
        }).ToList();
    }

    internal static BuiltInStep? Find(string name) => All.FirstOrDefault(step => step.Name == name);
}
