using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Events;

/// <summary>
/// One Celery event. Every event carries <c>hostname, utcoffset, pid, clock, timestamp, type</c>; each type adds its
/// own fields between <c>clock</c> and <c>timestamp</c>, in the order Celery writes them.
/// </summary>
public abstract record ClusterEvent
{
    protected ClusterEvent(string type) => Type = type;

    /// <summary>With dashes, as in the body: <c>task-succeeded</c>. The routing key uses dots.</summary>
    public string Type { get; }

    /// <summary>The sender's node name (the header <c>hostname</c> carries it too).</summary>
    public string Hostname { get; init; } = "";

    /// <summary>Hours <em>west</em> of UTC, floored: Celery's inverted sign (see <see cref="CeleryUtcOffset"/>).</summary>
    public int Utcoffset { get; init; }

    public int Pid { get; init; }

    /// <summary>The sender's app Lamport clock.</summary>
    public long Clock { get; init; }

    /// <summary>Epoch seconds (<c>time.time()</c>).</summary>
    public double Timestamp { get; init; }

    public bool IsTaskEvent => Type.StartsWith("task-", StringComparison.Ordinal);

    public bool IsWorkerEvent => Type.StartsWith("worker-", StringComparison.Ordinal);

    /// <summary>The event as Celery's JSON object, members in Celery's order.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["hostname"] = Hostname,
            ["utcoffset"] = Utcoffset,
            ["pid"] = Pid,
            ["clock"] = Clock,
        };
        WriteFields(json);
        json["timestamp"] = Timestamp;
        json["type"] = Type;
        return json;
    }

    protected abstract void WriteFields(JsonObject json);
}

/// <summary><c>worker-online</c>, <c>worker-heartbeat</c> and <c>worker-offline</c>.</summary>
/// <remarks>
/// The heartbeat that answers the <c>heartbeat</c> control command has no active, processed or loadavg, and its
/// <c>freq</c> is the int 5; an event without <see cref="Active"/> writes a whole freq as an int to match.
/// </remarks>
public sealed record WorkerEvent : ClusterEvent
{
    public const string Online = "worker-online";
    public const string Heartbeat = "worker-heartbeat";
    public const string Offline = "worker-offline";

    public WorkerEvent(string type)
        : base(type)
    {
        if (!type.StartsWith("worker-", StringComparison.Ordinal)) throw new ArgumentException($"'{type}' is not a worker event type", nameof(type));
    }

    /// <summary>Seconds between heartbeats; a monitor counts the worker alive for 2 × freq after the last one.</summary>
    public double Freq { get; init; } = 2.0;

    /// <summary>Running tasks; null in the short heartbeat.</summary>
    public int? Active { get; init; }

    public long? Processed { get; init; }

    /// <summary>1, 5 and 15 minute load averages, rounded up to 2 decimals.</summary>
    public IReadOnlyList<double>? Loadavg { get; init; }

    public string SwIdent { get; init; } = SoftwareInfo.Ident;

    public string SwVer { get; init; } = SoftwareInfo.Version;

    public string SwSys { get; init; } = SoftwareInfo.System;

    protected override void WriteFields(JsonObject json)
    {
        json["freq"] = Active is null && Freq == Math.Floor(Freq) && Math.Abs(Freq) < int.MaxValue ? JsonValue.Create((int)Freq) : JsonValue.Create(Freq);
        if (Active is not null) json["active"] = Active;
        if (Processed is not null) json["processed"] = Processed;
        if (Loadavg is not null) json["loadavg"] = new JsonArray([.. Loadavg.Select(l => (JsonNode?)l)]);
        json["sw_ident"] = SwIdent;
        json["sw_ver"] = SwVer;
        json["sw_sys"] = SwSys;
    }
}

/// <summary>A task event: every one names its task by <c>uuid</c>.</summary>
public abstract record TaskEvent(string TaskType, string Uuid) : ClusterEvent(TaskType);

/// <summary><c>task-sent</c>, from a client with task_send_sent_event; monitors do not trust its clock.</summary>
public sealed record TaskSentEvent(
    string Uuid,
    string Name,
    string Args,
    string Kwargs,
    string? RootId = null,
    string? ParentId = null,
    int Retries = 0,
    string? Eta = null,
    string? Expires = null,
    string? Queue = null,
    string? Exchange = null,
    string? RoutingKey = null) : TaskEvent("task-sent", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["root_id"] = RootId;
        json["parent_id"] = ParentId;
        json["name"] = Name;
        json["args"] = Args;
        json["kwargs"] = Kwargs;
        json["retries"] = Retries;
        json["eta"] = Eta;
        json["expires"] = Expires;
        json["queue"] = Queue;
        json["exchange"] = Exchange;
        json["routing_key"] = RoutingKey;
    }
}

/// <summary><c>task-received</c>: <c>args</c> and <c>kwargs</c> are the argsrepr and kwargsrepr strings.</summary>
public sealed record TaskReceivedEvent(
    string Uuid,
    string Name,
    string Args,
    string Kwargs,
    string? RootId = null,
    string? ParentId = null,
    int Retries = 0,
    string? Eta = null,
    string? Expires = null) : TaskEvent("task-received", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["name"] = Name;
        json["args"] = Args;
        json["kwargs"] = Kwargs;
        json["root_id"] = RootId;
        json["parent_id"] = ParentId;
        json["retries"] = Retries;
        json["eta"] = Eta;
        json["expires"] = Expires;
    }
}

/// <summary><c>task-started</c>.</summary>
public sealed record TaskStartedEvent(string Uuid) : TaskEvent("task-started", Uuid)
{
    protected override void WriteFields(JsonObject json) => json["uuid"] = Uuid;
}

/// <summary><c>task-succeeded</c>: <c>result</c> is a Python repr string of at most 1024 characters, <c>runtime</c> float seconds.</summary>
public sealed record TaskSucceededEvent(string Uuid, string Result, double Runtime) : TaskEvent("task-succeeded", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["result"] = Result;
        json["runtime"] = Runtime;
    }
}

/// <summary><c>task-failed</c>: the exception's repr; no traceback key when there is none (an unregistered task).</summary>
public sealed record TaskFailedEvent(string Uuid, string Exception, string? Traceback) : TaskEvent("task-failed", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["exception"] = Exception;
        if (Traceback is not null) json["traceback"] = Traceback;
    }
}

/// <summary><c>task-retried</c>.</summary>
public sealed record TaskRetriedEvent(string Uuid, string Exception, string? Traceback) : TaskEvent("task-retried", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["exception"] = Exception;
        if (Traceback is not null) json["traceback"] = Traceback;
    }
}

/// <summary><c>task-rejected</c>.</summary>
public sealed record TaskRejectedEvent(string Uuid, bool Requeue) : TaskEvent("task-rejected", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["requeue"] = Requeue;
    }
}

/// <summary><c>task-revoked</c>: revoked before it ran, terminated with <c>signum</c>, or expired.</summary>
public sealed record TaskRevokedEvent(string Uuid, bool Terminated, int? Signum, bool Expired) : TaskEvent("task-revoked", Uuid)
{
    protected override void WriteFields(JsonObject json)
    {
        json["uuid"] = Uuid;
        json["terminated"] = Terminated;
        json["signum"] = Signum;
        json["expired"] = Expired;
    }
}

/// <summary>Any other type (<c>task-cancelled</c>, <c>worker-elect</c>, a custom one), kept with its fields as received.</summary>
public sealed record OtherEvent : ClusterEvent
{
    public OtherEvent(string type, JsonObject fields)
        : base(type) => Fields = fields;

    /// <summary>The fields besides the six common ones, in received order.</summary>
    public JsonObject Fields { get; }

    protected override void WriteFields(JsonObject json)
    {
        foreach (var (key, value) in Fields) json[key] = value?.DeepClone();
    }
}
