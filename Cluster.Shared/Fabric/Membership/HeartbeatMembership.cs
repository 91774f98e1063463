using ClusterQueue.Fabric.Events;

namespace ClusterQueue.Fabric.Membership;

/// <summary>What the membership view knows of one node.</summary>
/// <remarks><c>LastHeartbeat</c> is the local receive time of its latest worker or task event; <c>Offline</c> is set by <c>worker-offline</c>.</remarks>
public sealed record HeartbeatMember(string Name, double Freq, DateTimeOffset LastHeartbeat, bool Offline, bool Alive, string? SwIdent, string? SwVer);

/// <summary>
/// The cluster as seen from worker events, by Celery's monitor rules: a node is alive while its last event, by local
/// receive time, is newer than 2 × freq; <c>worker-offline</c> makes it offline at once; task events count as heartbeats.
/// </summary>
public sealed class HeartbeatMembership
{
    /// <summary>Celery's <c>HEARTBEAT_EXPIRE_WINDOW</c> of 200 %.</summary>
    public const double ExpireWindow = 2.0;

    // Celery's Worker default, used for a node first seen through a task event.
    private const double DefaultFreq = 60.0;

    private readonly TimeProvider time;
    private readonly object gate = new();
    private readonly Dictionary<string, Member> members = new(StringComparer.Ordinal);

    public HeartbeatMembership(TimeProvider? time = null) => this.time = time ?? TimeProvider.System;

    /// <summary>Folds one event in, received now.</summary>
    public void Apply(ClusterEvent evt) => Apply(evt, time.GetUtcNow());

    public void Apply(ReceivedEvent received)
    {
        ArgumentNullException.ThrowIfNull(received);
        Apply(received.Event, received.ReceivedAt);
    }

    public void Apply(ClusterEvent evt, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (string.IsNullOrEmpty(evt.Hostname)) return;
        lock (gate)
        {
            if (!members.TryGetValue(evt.Hostname, out var member))
            {
                if (evt.Type == WorkerEvent.Offline) return;
                member = new Member { Freq = DefaultFreq };
                members[evt.Hostname] = member;
            }

            switch (evt)
            {
                case WorkerEvent { Type: WorkerEvent.Offline }:
                    member.Offline = true;
                    break;
                case WorkerEvent worker:
                    member.Freq = worker.Freq > 0 ? worker.Freq : DefaultFreq;
                    member.SwIdent = worker.SwIdent;
                    member.SwVer = worker.SwVer;
                    member.Offline = false;
                    member.LastHeartbeat = Max(member.LastHeartbeat, receivedAt);
                    break;
                case { IsTaskEvent: true }:
                    member.Offline = false;
                    member.LastHeartbeat = Max(member.LastHeartbeat, receivedAt);
                    break;
            }
        }
    }

    public bool IsAlive(string nodeName)
    {
        lock (gate) return members.TryGetValue(nodeName, out var member) && IsAlive(member, time.GetUtcNow());
    }

    /// <summary>Every node seen, with its state now, by name.</summary>
    public IReadOnlyList<HeartbeatMember> Snapshot()
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            return [.. members.OrderBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => new HeartbeatMember(m.Key, m.Value.Freq, m.Value.LastHeartbeat, m.Value.Offline, IsAlive(m.Value, now), m.Value.SwIdent, m.Value.SwVer))];
        }
    }

    /// <summary>The names of the nodes alive now.</summary>
    public IReadOnlyList<string> AliveNodes() => [.. Snapshot().Where(m => m.Alive).Select(m => m.Name)];

    /// <summary>Refuses a name that a live node already uses: two nodes under one name would split its pidbox queue and its replies.</summary>
    public void EnsureNameAvailable(string nodeName)
    {
        if (IsAlive(nodeName)) throw new NodeNameInUseException(nodeName);
    }

    private static bool IsAlive(Member member, DateTimeOffset now) =>
        !member.Offline && member.LastHeartbeat != default && now < member.LastHeartbeat + TimeSpan.FromSeconds(member.Freq * ExpireWindow);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class Member
    {
        public double Freq { get; set; }

        public DateTimeOffset LastHeartbeat { get; set; }

        public bool Offline { get; set; }

        public string? SwIdent { get; set; }

        public string? SwVer { get; set; }
    }
}

/// <summary>A node tried to start under a name that a live node already uses.</summary>
public sealed class NodeNameInUseException(string nodeName)
    : Exception($"a node named '{nodeName}' is already alive in the cluster; choose another name with -n or stop that node first")
{
    public string NodeName { get; } = nodeName;
}
