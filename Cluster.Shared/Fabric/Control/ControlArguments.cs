using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Control;

/// <summary><c>active</c>: <c>{"safe": null}</c> from <c>inspect().active()</c>; with <c>safe</c> args are reprs.</summary>
public sealed record ActiveArguments(bool? Safe = null)
{
    public JsonObject ToJson() => new() { ["safe"] = Safe };

    public static ActiveArguments Parse(JsonObject args) => new(ArgumentReader.OptionalBool(args, "safe"));
}

/// <summary><c>registered</c>: <c>{"taskinfoitems": []}</c>; empty means exchange, routing_key and rate_limit.</summary>
public sealed record RegisteredArguments(IReadOnlyList<string> TaskInfoItems)
{
    public static readonly IReadOnlyList<string> DefaultItems = ["exchange", "routing_key", "rate_limit"];

    public JsonObject ToJson() => new() { ["taskinfoitems"] = new JsonArray([.. TaskInfoItems.Select(i => (JsonNode?)i)]) };

    public static RegisteredArguments Parse(JsonObject args) => new(ArgumentReader.StringOrList(args, "taskinfoitems"));

    /// <summary>The items to show: the given ones, or Celery's defaults when none are given.</summary>
    public IReadOnlyList<string> EffectiveItems => TaskInfoItems.Count > 0 ? TaskInfoItems : DefaultItems;
}

/// <summary><c>conf</c>: <c>{"with_defaults": false}</c>.</summary>
public sealed record ConfArguments(bool WithDefaults = false)
{
    public JsonObject ToJson() => new() { ["with_defaults"] = WithDefaults };

    public static ConfArguments Parse(JsonObject args) => new(ArgumentReader.OptionalBool(args, "with_defaults") ?? false);
}

/// <summary><c>query_task</c>: <c>{"ids": [...]}</c>.</summary>
public sealed record QueryTaskArguments(IReadOnlyList<string> Ids)
{
    public JsonObject ToJson() => new() { ["ids"] = new JsonArray([.. Ids.Select(i => (JsonNode?)i)]) };

    public static QueryTaskArguments Parse(JsonObject args) => new(ArgumentReader.StringOrList(args, "ids"));
}

/// <summary><c>revoke</c>: <c>{"task_id": id or [ids], "terminate": false, "signal": "SIGTERM"}</c>; the signal is always sent.</summary>
public sealed record RevokeArguments(IReadOnlyList<string> TaskIds, bool Terminate = false, string Signal = "SIGTERM")
{
    public JsonObject ToJson() => new()
    {
        // Python sends what the caller gave: a string for one id, a list for several.
        ["task_id"] = TaskIds.Count == 1 ? TaskIds[0] : new JsonArray([.. TaskIds.Select(i => (JsonNode?)i)]),
        ["terminate"] = Terminate,
        ["signal"] = Signal,
    };

    public static RevokeArguments Parse(JsonObject args)
    {
        var ids = ArgumentReader.StringOrList(args, "task_id");
        if (ids.Count == 0) throw new ControlArgumentException("task_id", "is required");
        return new RevokeArguments(ids, ArgumentReader.OptionalBool(args, "terminate") ?? false, ArgumentReader.OptionalString(args, "signal") ?? "SIGTERM");
    }
}

/// <summary><c>rate_limit</c>: <c>{"task_name", "rate_limit"}</c>; an empty or null limit disables it.</summary>
public sealed record RateLimitArguments(string TaskName, string? RateLimit)
{
    public JsonObject ToJson() => new() { ["task_name"] = TaskName, ["rate_limit"] = RateLimit };

    public static RateLimitArguments Parse(JsonObject args)
    {
        var limit = args["rate_limit"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? v.ToJsonString()
            : ArgumentReader.OptionalString(args, "rate_limit");
        return new RateLimitArguments(ArgumentReader.RequiredString(args, "task_name"), limit);
    }
}

/// <summary><c>time_limit</c>: <c>{"task_name", "hard", "soft"}</c> in seconds; null removes a limit.</summary>
public sealed record TimeLimitArguments(string TaskName, double? Hard, double? Soft)
{
    public JsonObject ToJson() => new() { ["task_name"] = TaskName, ["hard"] = ArgumentReader.Number(Hard), ["soft"] = ArgumentReader.Number(Soft) };

    public static TimeLimitArguments Parse(JsonObject args) =>
        new(ArgumentReader.RequiredString(args, "task_name"), ArgumentReader.OptionalNumber(args, "hard"), ArgumentReader.OptionalNumber(args, "soft"));
}

/// <summary><c>add_consumer</c>: <c>{"queue", "exchange", "exchange_type", "routing_key"}</c>.</summary>
public sealed record AddConsumerArguments(string Queue, string? Exchange = null, string ExchangeType = "direct", string? RoutingKey = null)
{
    public JsonObject ToJson() => new() { ["queue"] = Queue, ["exchange"] = Exchange, ["exchange_type"] = ExchangeType, ["routing_key"] = RoutingKey };

    public static AddConsumerArguments Parse(JsonObject args) => new(
        ArgumentReader.RequiredString(args, "queue"),
        ArgumentReader.OptionalString(args, "exchange"),
        ArgumentReader.OptionalString(args, "exchange_type") ?? "direct",
        ArgumentReader.OptionalString(args, "routing_key"));
}

/// <summary><c>cancel_consumer</c>: <c>{"queue"}</c>.</summary>
public sealed record CancelConsumerArguments(string Queue)
{
    public JsonObject ToJson() => new() { ["queue"] = Queue };

    public static CancelConsumerArguments Parse(JsonObject args) => new(ArgumentReader.RequiredString(args, "queue"));
}

/// <summary><c>pool_grow</c> and <c>pool_shrink</c>: <c>{"n": 1}</c>.</summary>
public sealed record PoolResizeArguments(int N = 1)
{
    public JsonObject ToJson() => new() { ["n"] = N };

    public static PoolResizeArguments Parse(JsonObject args)
    {
        var n = ArgumentReader.OptionalInt(args, "n") ?? 1;
        return n < 0 ? throw new ControlArgumentException("n", "must not be negative") : new PoolResizeArguments(n);
    }
}

/// <summary><c>autoscale</c>: <c>{"max": 4, "min": 1}</c>.</summary>
public sealed record AutoscaleArguments(int? Max, int? Min)
{
    public JsonObject ToJson() => new() { ["max"] = Max, ["min"] = Min };

    public static AutoscaleArguments Parse(JsonObject args) => new(ArgumentReader.OptionalInt(args, "max"), ArgumentReader.OptionalInt(args, "min"));
}
