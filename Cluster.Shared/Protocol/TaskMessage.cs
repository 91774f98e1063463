using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>A Celery protocol-2 task message: its headers, the AMQP properties that matter, and the body <c>[args, kwargs, embed]</c>.</summary>
/// <remarks>
/// Values are held as they travel. A null that Celery would fill in when sending (root id, correlation id, reprs,
/// origin, expiration) is filled in by <see cref="TaskMessageCodec.Encode"/>, so a decoded message keeps what was on
/// the wire. Args and kwargs are <see cref="JsonArray"/> and <see cref="JsonObject"/>: a task's arguments are
/// arbitrary JSON whose shape only the task knows, and the worker edits them (a chain prepends the parent's result),
/// which a read-only <see cref="System.Text.Json.JsonElement"/> would not allow.
/// </remarks>
public sealed record TaskMessage
{
    /// <summary>The header names Celery 5.2.6 writes, in its order. Any other header is an extra.</summary>
    public static readonly IReadOnlyList<string> StandardHeaders =
    [
        "lang", "task", "id", "shadow", "eta", "expires", "group", "group_index", "retries", "timelimit",
        "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result",
    ];

    /// <summary>Always <c>py</c> from Celery; the worker ignores it. Null when the header was absent.</summary>
    public string? Lang { get; init; } = "py";

    /// <summary>The registered task name, e.g. <c>tasks.add</c>.</summary>
    public required string Task { get; init; }

    /// <summary>The task id, a UUID string.</summary>
    public required string Id { get; init; }

    /// <summary>A display name used in logs and events instead of <see cref="Task"/>.</summary>
    public string? Shadow { get; init; }

    /// <summary>Not before this time (eta or countdown). Carried with microsecond precision.</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>Discarded (revoked as expired) when still unstarted after this time.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The group or chord id this task belongs to.</summary>
    public string? Group { get; init; }

    /// <summary>Position in a chord header; null for a plain group in Celery 5.2.6.</summary>
    public int? GroupIndex { get; init; }

    public int Retries { get; init; }

    /// <summary>Hard and soft time limits in seconds.</summary>
    public TimeLimits TimeLimit { get; init; } = TimeLimits.None;

    /// <summary>The first task of the workflow; Celery sends the task's own id for a stand-alone task.</summary>
    public string? RootId { get; init; }

    public string? ParentId { get; init; }

    /// <summary>Python repr of the args for logs and events; computed from <see cref="Args"/> when null.</summary>
    public string? ArgsRepr { get; init; }

    public string? KwargsRepr { get; init; }

    /// <summary>The sending node, <c>gen&lt;pid&gt;@&lt;host&gt;</c> from a Python client.</summary>
    public string? Origin { get; init; }

    public bool IgnoreResult { get; init; }

    /// <summary>Custom headers (<c>apply_async(headers=...)</c>), in order, passed through. Names never repeat a standard header.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> ExtraHeaders { get; init; } = [];

    /// <summary>The AMQP <c>correlation_id</c>; Celery sets the task id.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The result queue for the rpc backend; Celery sends <c>""</c> when there is none.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>0–255 (brokers use 0–9); null for no property, as on <c>celery.chord_unlock</c>.</summary>
    public byte? Priority { get; init; } = 0;

    /// <summary>2 = persistent, Celery's default for tasks.</summary>
    public byte DeliveryMode { get; init; } = 2;

    /// <summary>Per-message TTL in milliseconds as a decimal string; computed from <see cref="Expires"/> when null.</summary>
    public string? Expiration { get; init; }

    public JsonArray Args { get; init; } = [];

    /// <summary>Whether the args were a Python list (<c>send_task(args=[...])</c>) or a tuple; only the repr differs.</summary>
    public ArgsStyle ArgsStyle { get; init; } = ArgsStyle.Tuple;

    public JsonObject Kwargs { get; init; } = [];

    public TaskEmbed Embed { get; init; } = TaskEmbed.None;

    /// <summary>
    /// The serializer to send with (<c>json</c>, <c>msgpack</c>, <c>yaml</c>), as <c>apply_async(serializer=...)</c>; null means
    /// the codec's. It says how the message travels, not what it says, so decoding leaves it null and equality ignores it.
    /// </summary>
    public string? Serializer { get; init; }

    /// <summary>The compression to send with, as <c>apply_async(compression=...)</c>; null means the codec's. Ignored by equality.</summary>
    public string? Compression { get; init; }

    public bool Equals(TaskMessage? other) =>
        other is not null
        && Lang == other.Lang && Task == other.Task && Id == other.Id && Shadow == other.Shadow
        && Eta == other.Eta && Expires == other.Expires && Group == other.Group && GroupIndex == other.GroupIndex
        && Retries == other.Retries && TimeLimit == other.TimeLimit && RootId == other.RootId && ParentId == other.ParentId
        && ArgsRepr == other.ArgsRepr && KwargsRepr == other.KwargsRepr && Origin == other.Origin
        && IgnoreResult == other.IgnoreResult && HeaderValues.SameHeaders(ExtraHeaders, other.ExtraHeaders)
        && CorrelationId == other.CorrelationId && ReplyTo == other.ReplyTo && Priority == other.Priority
        && DeliveryMode == other.DeliveryMode && Expiration == other.Expiration && ArgsStyle == other.ArgsStyle
        && JsonNode.DeepEquals(Args, other.Args) && JsonNode.DeepEquals(Kwargs, other.Kwargs) && Embed.Equals(other.Embed);

    public override int GetHashCode() => HashCode.Combine(Task, Id, Retries, Eta);
}

/// <summary>The <c>timelimit</c> header: <c>[hard, soft]</c> in seconds, each optional.</summary>
public readonly record struct TimeLimits(double? Hard, double? Soft)
{
    /// <summary><c>[null, null]</c>: the worker's defaults apply.</summary>
    public static readonly TimeLimits None = new(null, null);
}
