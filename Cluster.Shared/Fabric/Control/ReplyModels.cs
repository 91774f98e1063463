using System.Globalization;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Fabric.Control;

/// <summary>How a request reached the worker: the <c>delivery_info</c> of request info.</summary>
public sealed record DeliveryInfo(string Exchange, string RoutingKey, int? Priority = 0, bool Redelivered = false)
{
    public JsonObject ToJson() => new() { ["exchange"] = Exchange, ["routing_key"] = RoutingKey, ["priority"] = Priority, ["redelivered"] = Redelivered };
}

/// <summary>Celery's <c>Request.info()</c>: one task in the replies of active, reserved, scheduled and query_task.</summary>
/// <remarks><c>Args</c>: The positional arguments, or their repr string when asked with <c>safe</c>.</remarks>
/// <remarks><c>TimeStart</c>: Epoch seconds when it started; null while reserved.</remarks>
public sealed record RequestInfo(
    string Id,
    string Name,
    JsonNode? Args,
    JsonNode? Kwargs,
    string Hostname,
    double? TimeStart,
    bool Acknowledged,
    DeliveryInfo DeliveryInfo,
    int? WorkerPid)
{
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["name"] = Name,
        ["args"] = FabricJson.Clone(Args),
        ["kwargs"] = FabricJson.Clone(Kwargs),
        ["type"] = Name,
        ["hostname"] = Hostname,
        ["time_start"] = TimeStart,
        ["acknowledged"] = Acknowledged,
        ["delivery_info"] = DeliveryInfo.ToJson(),
        ["worker_pid"] = WorkerPid,
    };

    public static JsonArray ListToJson(IEnumerable<RequestInfo> requests) => [.. requests.Select(r => (JsonNode)r.ToJson())];

    /// <summary>Reads one request info from a reply; a missing or mistyped field is a <see cref="FabricMessageException"/> naming it.</summary>
    public static RequestInfo Parse(JsonNode? json)
    {
        if (json is not JsonObject o) throw new FabricMessageException("request info must be an object");
        var delivery = o["delivery_info"] as JsonObject ?? throw new FabricMessageException("request info field 'delivery_info' must be an object");
        try
        {
            return new RequestInfo(
                (string?)o["id"] ?? throw new FabricMessageException("request info field 'id' is missing"),
                (string?)o["name"] ?? throw new FabricMessageException("request info field 'name' is missing"),
                o["args"]?.DeepClone(),
                o["kwargs"]?.DeepClone(),
                (string?)o["hostname"] ?? "",
                (double?)o["time_start"],
                (bool?)o["acknowledged"] ?? false,
                new DeliveryInfo((string?)delivery["exchange"] ?? "", (string?)delivery["routing_key"] ?? "", (int?)delivery["priority"], (bool?)delivery["redelivered"] ?? false),
                (int?)o["worker_pid"]);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new FabricMessageException($"request info has a field of the wrong type: {e.Message}", e);
        }
    }
}

/// <summary>An entry of the <c>scheduled</c> reply: an ETA task held by the worker.</summary>
public sealed record ScheduledTaskInfo(DateTimeOffset Eta, int Priority, RequestInfo Request)
{
    public JsonObject ToJson() => new() { ["eta"] = CeleryTime.Format(Eta), ["priority"] = Priority, ["request"] = Request.ToJson() };

    public static JsonArray ListToJson(IEnumerable<ScheduledTaskInfo> entries) => [.. entries.Select(e => (JsonNode)e.ToJson())];
}

/// <summary>Where a task of the <c>query_task</c> reply is: <c>active</c>, <c>reserved</c> or <c>ready</c>.</summary>
public sealed record QueriedTask(string State, RequestInfo Request);

/// <summary>The <c>query_task</c> reply: <c>{id: [state, request info]}</c> for the ids the worker knows.</summary>
public static class QueryTaskReply
{
    public static JsonObject ToJson(IEnumerable<QueriedTask> tasks)
    {
        var reply = new JsonObject();
        foreach (var task in tasks) reply[task.Request.Id] = new JsonArray(task.State, task.Request.ToJson());
        return reply;
    }
}

/// <summary>A task as the <c>registered</c> reply lists it: <c>tasks.add</c>, or <c>tasks.limited [rate_limit=100/m]</c>.</summary>
/// <remarks><c>Attributes</c>: Task attributes by Celery's names (exchange, routing_key, rate_limit...); null ones are not shown.</remarks>
public sealed record RegisteredTask(string Name, IReadOnlyDictionary<string, string?> Attributes)
{
    public string Describe(IReadOnlyList<string> items)
    {
        var shown = items
            .Where(item => Attributes.TryGetValue(item, out var value) && value is not null)
            .Select(item => $"{item}={Attributes[item]}")
            .ToList();
        return shown.Count == 0 ? Name : $"{Name} [{string.Join(' ', shown)}]";
    }

    /// <summary>The reply: sorted by name (ordinal, as Python sorts str), <c>celery.*</c> builtins hidden.</summary>
    public static JsonArray ListToJson(IEnumerable<RegisteredTask> tasks, RegisteredArguments arguments) =>
        [.. tasks
            .Where(t => !t.Name.StartsWith("celery.", StringComparison.Ordinal))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (JsonNode?)t.Describe(arguments.EffectiveItems))];
}

/// <summary>The <c>stats</c> reply. Pool, broker and rusage are free-form, as their content depends on the pool and the transport.</summary>
/// <remarks><c>Total</c>: Tasks processed, by name.</remarks>
/// <remarks><c>Clock</c>: The app clock; Celery sends it as a string.</remarks>
/// <remarks><c>UptimeSeconds</c>: Whole seconds since the worker started.</remarks>
/// <remarks><c>Autoscaler</c>: Celery's <c>Autoscaler.info()</c> (max, min, current, qty); only a worker with autoscale has the key.</remarks>
public sealed record WorkerStats(
    IReadOnlyList<KeyValuePair<string, long>> Total,
    int Pid,
    long Clock,
    long UptimeSeconds,
    JsonObject Pool,
    JsonObject Broker,
    int PrefetchCount,
    JsonObject Rusage,
    JsonObject? Autoscaler = null)
{
    public JsonObject ToJson()
    {
        var total = new JsonObject();
        foreach (var (name, count) in Total) total[name] = count;
        var stats = new JsonObject
        {
            ["total"] = total,
            ["pid"] = Pid,
            ["clock"] = Clock.ToString(CultureInfo.InvariantCulture),
            ["uptime"] = UptimeSeconds,
            ["pool"] = Pool.DeepClone(),
            ["broker"] = Broker.DeepClone(),
            ["prefetch_count"] = PrefetchCount,
            ["rusage"] = Rusage.DeepClone(),
        };
        if (Autoscaler is not null)
        {
            stats["autoscaler"] = Autoscaler.DeepClone();
        }

        return stats;
    }
}

/// <summary>An exchange inside kombu's <c>Queue.as_dict(recurse=True)</c>.</summary>
public sealed record ExchangeInfo(string Name, string Type = "direct", bool Durable = true, bool AutoDelete = false)
{
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["type"] = Type,
        ["arguments"] = null,
        ["durable"] = Durable,
        ["passive"] = false,
        ["auto_delete"] = AutoDelete,
        ["delivery_mode"] = null,
        ["no_declare"] = false,
    };
}

/// <summary>One queue of the <c>active_queues</c> reply, as kombu's <c>Queue.as_dict(recurse=True)</c>.</summary>
/// <remarks><c>Expires</c>: Seconds (kombu's unit), or null.</remarks>
/// <remarks><c>MessageTtl</c>: Seconds (kombu's unit), or null.</remarks>
public sealed record QueueInfo(
    string Name,
    ExchangeInfo Exchange,
    string RoutingKey,
    bool Durable = true,
    bool Exclusive = false,
    bool AutoDelete = false,
    double? Expires = null,
    double? MessageTtl = null,
    int? MaxPriority = null)
{
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["exchange"] = Exchange.ToJson(),
        ["routing_key"] = RoutingKey,
        ["queue_arguments"] = null,
        ["binding_arguments"] = null,
        ["consumer_arguments"] = null,
        ["durable"] = Durable,
        ["exclusive"] = Exclusive,
        ["auto_delete"] = AutoDelete,
        ["no_ack"] = false,
        ["alias"] = null,
        ["bindings"] = new JsonArray(),
        ["no_declare"] = null,
        ["expires"] = ArgumentReader.Number(Expires),
        ["message_ttl"] = ArgumentReader.Number(MessageTtl),
        ["max_length"] = null,
        ["max_length_bytes"] = null,
        ["max_priority"] = MaxPriority,
    };

    public static JsonArray ListToJson(IEnumerable<QueueInfo> queues) => [.. queues.Select(q => (JsonNode)q.ToJson())];
}

/// <summary>The <c>conf</c> reply: the node's settings by name, with any URL password masked as Celery does.</summary>
public static class ConfReply
{
    public static JsonObject ToJson(IEnumerable<KeyValuePair<string, JsonNode?>> settings)
    {
        var reply = new JsonObject();
        foreach (var (key, value) in settings)
        {
            reply[key] = value is JsonValue v && v.TryGetValue<string>(out var text) && text.Contains("://", StringComparison.Ordinal)
                ? MaskPassword(text)
                : FabricJson.Clone(value);
        }

        return reply;
    }

    /// <summary><c>amqp://guest:secret@host//</c> becomes <c>amqp://guest:********@host//</c>.</summary>
    public static string MaskPassword(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var at = url.IndexOf('@', scheme + 3);
        if (at < 0) return url;
        var colon = url.IndexOf(':', scheme + 3);
        return colon < 0 || colon > at ? url : string.Concat(url.AsSpan(0, colon + 1), "********", url.AsSpan(at));
    }
}

/// <summary>The <c>clock</c> reply: <c>{"clock": N}</c> with the app clock.</summary>
public static class ClockReply
{
    public static JsonObject ToJson(long clock) => new() { ["clock"] = clock };
}
