using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Membership;
using ClusterQueue.Results;

namespace ClusterQueue.Monitor.State;

/// <summary>One task as the monitor knows it from its events.</summary>
public sealed record TaskView
{
    public required string Uuid { get; init; }

    public string? Name { get; init; }

    public string State { get; init; } = TaskStates.Pending;

    /// <summary>The worker of the latest task event (task-sent comes from a client and does not set it).</summary>
    public string? Worker { get; init; }

    public string? Args { get; init; }

    public string? Kwargs { get; init; }

    public string? Result { get; init; }

    public string? Exception { get; init; }

    public string? Traceback { get; init; }

    public double? Runtime { get; init; }

    public int Retries { get; init; }

    public string? Eta { get; init; }

    public string? Expires { get; init; }

    public string? ParentId { get; init; }

    public string? RootId { get; init; }

    /// <summary>Event timestamps by state: <c>received</c>, <c>started</c>, <c>succeeded</c>...</summary>
    public double? Received { get; init; }

    public double? Started { get; init; }

    public double? Finished { get; init; }

    /// <summary>The timestamp of the event that set <see cref="State"/>.</summary>
    public double Timestamp { get; init; }
}

/// <summary>One worker as the monitor knows it: the fields of its latest worker event, and whether it is alive.</summary>
public sealed record WorkerView(
    string Hostname,
    bool Alive,
    double Freq,
    int? Active,
    long? Processed,
    IReadOnlyList<double>? Loadavg,
    string? SwIdent,
    string? SwVer,
    double LastHeartbeat,
    string AliveBy);

/// <summary>Counts by state and runtime percentiles of one task name.</summary>
public sealed record TaskTypeView(string Name, IReadOnlyDictionary<string, long> States, long Total, double? RuntimeP50, double? RuntimeP99);

/// <summary>
/// Cluster state folded from the event stream, as Celery's <c>celery.events.state.State</c> does: workers with their
/// heartbeats, tasks with Celery's precedence (an event that logically happened before the current state merges
/// fields but does not change the state), bounded by <c>max-tasks</c> with the least recently updated evicted first.
/// </summary>
/// <remarks>
/// Thread-safe: events come from the cluster subscriber and the HTTP API reads at the same time. Our nodes are alive
/// while they are Up cluster members (the <c>isMember</c> probe); Python workers by heartbeats within 2 × freq.
/// </remarks>
public sealed class MonitorState
{
    private const int RuntimeSamples = 1024;

    private static readonly JsonSerializerOptions SnapshotJson = new(JsonSerializerDefaults.Web);

    // Celery's merge_rules: a late task-received may still add what only it carries.
    private static readonly HashSet<string> ReceivedMergeFields = ["name", "args", "kwargs", "parent_id", "root_id", "retries", "eta", "expires"];

    private readonly Lock gate = new();
    private readonly int maxTasks;
    private readonly Dictionary<string, LinkedListNode<TaskView>> tasks = new(StringComparer.Ordinal);
    private readonly LinkedList<TaskView> recency = new();
    private readonly Dictionary<string, WorkerEvent> workers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TypeStats> types = new(StringComparer.Ordinal);
    private readonly HeartbeatMembership heartbeats;
    private readonly Func<string, bool?> isMember;
    private readonly Func<IReadOnlyCollection<string>> members;
    private long eventCount;

    /// <param name="maxTasks">Most tasks kept; the least recently updated go first.</param>
    /// <param name="isMember">Whether a node is an Up cluster member; null when the cluster does not know it (a Python worker).</param>
    /// <param name="members">The names of our nodes in the cluster, listed even before their first event reaches the monitor.</param>
    public MonitorState(int maxTasks = 10_000, Func<string, bool?>? isMember = null, Func<IReadOnlyCollection<string>>? members = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTasks, 1);
        this.maxTasks = maxTasks;
        this.isMember = isMember ?? (_ => null);
        this.members = members ?? (() => []);
        heartbeats = new HeartbeatMembership(time);
    }

    /// <summary>Events folded in so far.</summary>
    public long EventCount => Interlocked.Read(ref eventCount);

    public void Apply(ClusterEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        heartbeats.Apply(evt);
        lock (gate)
        {
            eventCount++;
            switch (evt)
            {
                case WorkerEvent worker:
                    workers[worker.Hostname] = worker;
                    break;
                case TaskEvent task:
                    ApplyTask(task);
                    break;
            }
        }
    }

    public IReadOnlyList<WorkerView> Workers()
    {
        var beats = heartbeats.Snapshot().ToDictionary(m => m.Name, StringComparer.Ordinal);
        var nodes = members();
        lock (gate)
        {
            var known = new Dictionary<string, WorkerEvent>(workers, StringComparer.Ordinal);
            foreach (var node in nodes)
            {
                // A node whose worker-online went out before the monitor subscribed is known from the cluster alone.
                known.TryAdd(node, new WorkerEvent(WorkerEvent.Online) { Hostname = node, Freq = 0 });
            }

            return known.Values
                .OrderBy(w => w.Hostname, StringComparer.Ordinal)
                .Select(w =>
                {
                    var member = isMember(w.Hostname);
                    var byHeartbeat = beats.TryGetValue(w.Hostname, out var m) && m.Alive;
                    return new WorkerView(
                        w.Hostname, member ?? byHeartbeat, w.Freq, w.Active, w.Processed, w.Loadavg, w.SwIdent, w.SwVer, w.Timestamp,
                        member is null ? "heartbeat" : "cluster");
                })
                .ToList();
        }
    }

    public TaskView? Task(string uuid)
    {
        lock (gate)
        {
            return tasks.TryGetValue(uuid, out var node) ? node.Value : null;
        }
    }

    /// <summary>The most recently updated tasks first, filtered by state and name.</summary>
    public IReadOnlyList<TaskView> Tasks(string? state = null, string? name = null, int limit = 100)
    {
        lock (gate)
        {
            var found = new List<TaskView>(Math.Min(limit, tasks.Count));
            for (var node = recency.First; node is not null && found.Count < limit; node = node.Next)
            {
                var task = node.Value;
                if ((state is null || string.Equals(task.State, state, StringComparison.OrdinalIgnoreCase))
                    && (name is null || task.Name == name))
                {
                    found.Add(task);
                }
            }

            return found;
        }
    }

    public IReadOnlyList<TaskTypeView> TaskTypes()
    {
        lock (gate)
        {
            return types.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value.View(t.Key)).ToList();
        }
    }

    /// <summary>
    /// The state as JSON for a snapshot: tasks updated within <paramref name="retention"/> of the newest (most recent
    /// first), the latest event of each worker, and the per-type counts.
    /// </summary>
    public byte[] Export(TimeSpan retention)
    {
        lock (gate)
        {
            var newest = recency.First?.Value.Timestamp ?? 0;
            var keptTasks = recency.Where(t => newest - t.Timestamp <= retention.TotalSeconds).ToList();
            var snapshot = new JsonObject
            {
                ["version"] = 1,
                ["events"] = eventCount,
                ["tasks"] = JsonSerializer.SerializeToNode(keptTasks, SnapshotJson),
                ["workers"] = new JsonArray([.. workers.Values.Select(w => (JsonNode)w.ToJson())]),
                ["types"] = new JsonObject(types.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value.ToJson()))),
            };
            return JsonSerializer.SerializeToUtf8Bytes(snapshot);
        }
    }

    /// <summary>Replaces the state with a snapshot written by <see cref="Export"/>.</summary>
    /// <exception cref="FormatException">The snapshot is not one this version wrote.</exception>
    public void Restore(byte[] snapshot)
    {
        var json = JsonNode.Parse(snapshot) as JsonObject ?? throw new FormatException("a monitor snapshot is a JSON object");
        if (json["version"]?.GetValue<int>() != 1)
        {
            throw new FormatException($"monitor snapshot version {json["version"]} is not 1");
        }

        var restoredTasks = json["tasks"].Deserialize<List<TaskView>>(SnapshotJson) ?? [];
        lock (gate)
        {
            tasks.Clear();
            recency.Clear();
            foreach (var task in restoredTasks.Take(maxTasks))
            {
                tasks[task.Uuid] = recency.AddLast(task);
            }

            workers.Clear();
            foreach (var worker in json["workers"]?.AsArray() ?? [])
            {
                if (EventCodec.Decode(worker!.AsObject()) is WorkerEvent evt)
                {
                    workers[evt.Hostname] = evt;
                }
            }

            types.Clear();
            foreach (var (name, stats) in json["types"]?.AsObject() ?? [])
            {
                types[name] = TypeStats.FromJson(stats!.AsObject());
            }

            eventCount = json["events"]?.GetValue<long>() ?? 0;
        }
    }

    private void ApplyTask(TaskEvent evt)
    {
        var current = tasks.TryGetValue(evt.Uuid, out var node) ? node.Value : new TaskView { Uuid = evt.Uuid };
        var state = StateOf(evt);
        var fields = Fields(evt);
        // Celery compares precedence except for RETRY, which always takes over (a retried task runs again).
        var happenedBefore = state != TaskStates.Retry && current.State != TaskStates.Retry
            && tasks.ContainsKey(evt.Uuid) && TaskStates.Precedence(state) < TaskStates.Precedence(current.State);
        if (happenedBefore && evt is TaskReceivedEvent)
        {
            fields = fields.Where(f => ReceivedMergeFields.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value);
        }

        var updated = Merge(current, fields, evt);
        if (!happenedBefore)
        {
            updated = updated with { State = state, Timestamp = evt.Timestamp };
        }

        CountState(updated, current, evt);

        if (node is null)
        {
            tasks[evt.Uuid] = recency.AddFirst(updated);
            if (tasks.Count > maxTasks && recency.Last is { } oldest)
            {
                recency.RemoveLast();
                tasks.Remove(oldest.Value.Uuid);
            }
        }
        else
        {
            node.Value = updated;
            recency.Remove(node);
            recency.AddFirst(node);
        }
    }

    /// <summary>Counts a task once per state it enters, so the per-type counts survive eviction.</summary>
    private void CountState(TaskView updated, TaskView previous, TaskEvent evt)
    {
        if (updated.Name is not { } name)
        {
            return;
        }

        if (!types.TryGetValue(name, out var stats))
        {
            types[name] = stats = new TypeStats();
        }

        if (previous.Name is null)
        {
            stats.Enter(updated.State, left: null);
        }
        else if (previous.State != updated.State)
        {
            stats.Enter(updated.State, previous.State);
        }

        if (evt is TaskSucceededEvent succeeded)
        {
            stats.Runtime(succeeded.Runtime);
        }
    }

    private static string StateOf(TaskEvent evt) => evt switch
    {
        TaskSentEvent => TaskStates.Pending,
        TaskReceivedEvent => TaskStates.Received,
        TaskStartedEvent => TaskStates.Started,
        TaskSucceededEvent => TaskStates.Success,
        TaskFailedEvent => TaskStates.Failure,
        TaskRetriedEvent => TaskStates.Retry,
        TaskRevokedEvent => TaskStates.Revoked,
        TaskRejectedEvent => TaskStates.Rejected,
        _ => evt.Type["task-".Length..].ToUpperInvariant(),
    };

    private static Dictionary<string, object?> Fields(TaskEvent evt)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        switch (evt)
        {
            case TaskSentEvent s:
                (fields["name"], fields["args"], fields["kwargs"], fields["retries"], fields["eta"], fields["expires"], fields["parent_id"], fields["root_id"]) =
                    (s.Name, s.Args, s.Kwargs, s.Retries, s.Eta, s.Expires, s.ParentId, s.RootId);
                break;
            case TaskReceivedEvent r:
                (fields["name"], fields["args"], fields["kwargs"], fields["retries"], fields["eta"], fields["expires"], fields["parent_id"], fields["root_id"]) =
                    (r.Name, r.Args, r.Kwargs, r.Retries, r.Eta, r.Expires, r.ParentId, r.RootId);
                break;
            case TaskSucceededEvent s:
                (fields["result"], fields["runtime"]) = (s.Result, s.Runtime);
                break;
            case TaskFailedEvent f:
                (fields["exception"], fields["traceback"]) = (f.Exception, f.Traceback);
                break;
            case TaskRetriedEvent r:
                (fields["exception"], fields["traceback"]) = (r.Exception, r.Traceback);
                break;
        }

        return fields;
    }

    private static TaskView Merge(TaskView task, Dictionary<string, object?> fields, TaskEvent evt)
    {
        string? S(string key, string? old) => fields.TryGetValue(key, out var v) ? v as string ?? old : old;
        var updated = task with
        {
            Name = S("name", task.Name),
            Args = S("args", task.Args),
            Kwargs = S("kwargs", task.Kwargs),
            Eta = S("eta", task.Eta),
            Expires = S("expires", task.Expires),
            ParentId = S("parent_id", task.ParentId),
            RootId = S("root_id", task.RootId),
            Result = S("result", task.Result),
            Exception = S("exception", task.Exception),
            Traceback = S("traceback", task.Traceback),
            Retries = fields.TryGetValue("retries", out var retries) && retries is int r ? r : task.Retries,
            Runtime = fields.TryGetValue("runtime", out var runtime) && runtime is double d ? d : task.Runtime,
            Worker = evt is TaskSentEvent ? task.Worker : evt.Hostname,
        };
        return evt switch
        {
            TaskReceivedEvent => updated with { Received = evt.Timestamp },
            TaskStartedEvent => updated with { Started = evt.Timestamp },
            TaskSucceededEvent or TaskFailedEvent or TaskRevokedEvent or TaskRejectedEvent => updated with { Finished = evt.Timestamp },
            _ => updated,
        };
    }

    /// <summary>Per task name: how many tasks are in each state now, and a window of recent runtimes.</summary>
    private sealed class TypeStats
    {
        private readonly Dictionary<string, long> states = new(StringComparer.Ordinal);
        private readonly double[] runtimes = new double[RuntimeSamples];
        private long total;
        private int runtimeCount;
        private int next;

        public void Enter(string state, string? left)
        {
            if (left is null)
            {
                total++;
            }
            else if (states.TryGetValue(left, out var n))
            {
                states[left] = Math.Max(0, n - 1);
            }

            states[state] = states.GetValueOrDefault(state) + 1;
        }

        public void Runtime(double seconds)
        {
            runtimes[next] = seconds;
            next = (next + 1) % RuntimeSamples;
            runtimeCount = Math.Min(runtimeCount + 1, RuntimeSamples);
        }

        public static TypeStats FromJson(JsonObject json)
        {
            var stats = new TypeStats { total = json["total"]?.GetValue<long>() ?? 0 };
            foreach (var (state, count) in json["states"]?.AsObject() ?? [])
            {
                stats.states[state] = count!.GetValue<long>();
            }

            foreach (var runtime in json["runtimes"]?.AsArray() ?? [])
            {
                stats.Runtime(runtime!.GetValue<double>());
            }

            return stats;
        }

        public JsonObject ToJson() => new()
        {
            ["total"] = total,
            ["states"] = new JsonObject(states.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            ["runtimes"] = new JsonArray([.. runtimes[..runtimeCount].Select(r => (JsonNode)r)]),
        };

        public TaskTypeView View(string name)
        {
            double? p50 = null, p99 = null;
            if (runtimeCount > 0)
            {
                var sorted = runtimes[..runtimeCount].Order().ToArray();
                p50 = sorted[(int)Math.Floor((sorted.Length - 1) * 0.50)];
                p99 = sorted[(int)Math.Floor((sorted.Length - 1) * 0.99)];
            }

            return new TaskTypeView(name, new Dictionary<string, long>(states.Where(s => s.Value > 0)), total, p50, p99);
        }
    }
}
