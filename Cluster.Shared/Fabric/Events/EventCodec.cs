using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Fabric.Events;

/// <summary>Encodes and decodes events as they travel on the <c>celeryev</c> exchange: single objects, or <c>task.multi</c> lists.</summary>
public static class EventCodec
{
    /// <summary>The routing key of a batch of task events.</summary>
    public const string MultiRoutingKey = "task.multi";

    private static readonly HashSet<string> CommonFields = new(StringComparer.Ordinal) { "hostname", "utcoffset", "pid", "clock", "timestamp", "type" };

    // Events are transient (delivery_mode 1), as Celery sends them.
    private static readonly MessageProperties EventProperties = MessageProperties.Json with { DeliveryMode = 1 };

    /// <summary>The type with <c>-</c> replaced by <c>.</c>: <c>worker.heartbeat</c>, <c>worker.elect.ack</c>.</summary>
    public static string RoutingKey(string type) => type.Replace('-', '.');

    public static Envelope Encode(ClusterEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return Wrap(evt.ToJson(), evt.Hostname);
    }

    /// <summary>A <c>task.multi</c> body: a JSON list of events, possibly of several types and tasks.</summary>
    public static Envelope EncodeBatch(IReadOnlyList<ClusterEvent> events, string hostname)
    {
        ArgumentNullException.ThrowIfNull(events);
        return Wrap(new JsonArray([.. events.Select(e => (JsonNode)e.ToJson())]), hostname);
    }

    /// <summary>Reads a body that is one event object or a list of them; a malformed one is a <see cref="FabricMessageException"/>.</summary>
    public static IReadOnlyList<ClusterEvent> DecodeBody(ReadOnlyMemory<byte> body) => FabricJson.Parse(body, "event body") switch
    {
        JsonObject single => [Decode(single)],
        JsonArray list => [.. list.Select((item, i) => item is JsonObject o ? Decode(o) : throw new FabricMessageException($"event list item {i} is not an object"))],
        _ => throw new FabricMessageException("event body must be an object or a list of objects"),
    };

    /// <summary>Reads one event object into its typed record; an unknown type becomes an <see cref="OtherEvent"/>.</summary>
    public static ClusterEvent Decode(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var r = new FieldReader(json, json["type"] is JsonValue t && t.TryGetValue<string>(out var type) && type.Length > 0
            ? type
            : throw new FabricMessageException("event field 'type' must be a non-empty string"));
        ClusterEvent evt = r.Type switch
        {
            WorkerEvent.Online or WorkerEvent.Heartbeat or WorkerEvent.Offline => new WorkerEvent(r.Type)
            {
                Freq = r.OptionalDouble("freq") ?? 2.0,
                Active = r.OptionalInt("active"),
                Processed = r.OptionalLong("processed"),
                Loadavg = r.OptionalDoubles("loadavg"),
                SwIdent = r.OptionalString("sw_ident") ?? "",
                SwVer = r.OptionalString("sw_ver") ?? "",
                SwSys = r.OptionalString("sw_sys") ?? "",
            },
            "task-sent" => new TaskSentEvent(
                r.String("uuid"), r.OptionalString("name") ?? "", r.OptionalString("args") ?? "", r.OptionalString("kwargs") ?? "",
                r.OptionalString("root_id"), r.OptionalString("parent_id"), r.OptionalInt("retries") ?? 0,
                r.OptionalString("eta"), r.OptionalString("expires"), r.OptionalString("queue"), r.OptionalString("exchange"), r.OptionalString("routing_key")),
            "task-received" => new TaskReceivedEvent(
                r.String("uuid"), r.OptionalString("name") ?? "", r.OptionalString("args") ?? "", r.OptionalString("kwargs") ?? "",
                r.OptionalString("root_id"), r.OptionalString("parent_id"), r.OptionalInt("retries") ?? 0,
                r.OptionalString("eta"), r.OptionalString("expires")),
            "task-started" => new TaskStartedEvent(r.String("uuid")),
            "task-succeeded" => new TaskSucceededEvent(r.String("uuid"), r.OptionalString("result") ?? "", r.OptionalDouble("runtime") ?? 0),
            "task-failed" => new TaskFailedEvent(r.String("uuid"), r.OptionalString("exception") ?? "", r.OptionalString("traceback")),
            "task-retried" => new TaskRetriedEvent(r.String("uuid"), r.OptionalString("exception") ?? "", r.OptionalString("traceback")),
            "task-rejected" => new TaskRejectedEvent(r.String("uuid"), r.OptionalBool("requeue") ?? false),
            "task-revoked" => new TaskRevokedEvent(r.String("uuid"), r.OptionalBool("terminated") ?? false, r.OptionalInt("signum"), r.OptionalBool("expired") ?? false),
            _ => new OtherEvent(r.Type, OtherFields(json)),
        };
        return evt with
        {
            Hostname = r.String("hostname"),
            Utcoffset = r.OptionalInt("utcoffset") ?? 0,
            Pid = r.OptionalInt("pid") ?? 0,
            Clock = r.OptionalLong("clock") ?? 0,
            Timestamp = r.OptionalDouble("timestamp") ?? 0,
        };
    }

    private static Envelope Wrap(JsonNode body, string hostname) => new()
    {
        Body = FabricJson.Serialize(body),
        Properties = EventProperties,
        Headers = new Dictionary<string, object?> { ["hostname"] = hostname },
    };

    private static JsonObject OtherFields(JsonObject json)
    {
        var fields = new JsonObject();
        foreach (var (key, value) in json)
        {
            if (!CommonFields.Contains(key)) fields[key] = value?.DeepClone();
        }

        return fields;
    }

    private sealed class FieldReader(JsonObject json, string type)
    {
        public string Type => type;

        public string String(string name) => OptionalString(name) ?? throw Error(name, "is required");

        public string? OptionalString(string name) => json[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw Error(name, $"must be a string, not {other.ToJsonString()}"),
        };

        public bool? OptionalBool(string name) => json[name] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            var other => throw Error(name, $"must be true or false, not {other.ToJsonString()}"),
        };

        public double? OptionalDouble(string name) => json[name] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
            var other => throw Error(name, $"must be a number, not {other.ToJsonString()}"),
        };

        public long? OptionalLong(string name)
        {
            var d = OptionalDouble(name);
            if (d is null) return null;
            return d.Value == Math.Floor(d.Value) && Math.Abs(d.Value) < 9e18 ? (long)d.Value : throw Error(name, $"must be an integer, not {d.Value}");
        }

        public int? OptionalInt(string name)
        {
            var l = OptionalLong(name);
            return l is null ? null : l is >= int.MinValue and <= int.MaxValue ? (int)l : throw Error(name, "is out of range");
        }

        public double[]? OptionalDoubles(string name) => json[name] switch
        {
            null => null,
            JsonArray a => [.. a.Select(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : throw Error(name, "must be a list of numbers"))],
            _ => throw Error(name, "must be a list of numbers"),
        };

        private FabricMessageException Error(string name, string problem) => new($"{type} event field '{name}' {problem}");
    }
}
