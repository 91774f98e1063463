using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Control;

/// <summary>Typed reads of a command's arguments; a wrong type is a <see cref="ControlArgumentException"/> naming the argument.</summary>
internal static class ArgumentReader
{
    public static string RequiredString(JsonObject args, string name) =>
        OptionalString(args, name) ?? throw new ControlArgumentException(name, "is required");

    public static string? OptionalString(JsonObject args, string name) => args[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new ControlArgumentException(name, $"must be a string, not {other.GetValueKind()}"),
    };

    public static bool? OptionalBool(JsonObject args, string name) => args[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var other => throw new ControlArgumentException(name, $"must be true or false, not {other.GetValueKind()}"),
    };

    public static int? OptionalInt(JsonObject args, string name)
    {
        var node = args[name];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var d = v.GetValue<double>();
            if (d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        }

        throw new ControlArgumentException(name, $"must be an integer, not {node.ToJsonString()}");
    }

    public static double? OptionalNumber(JsonObject args, string name) => args[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.GetValue<double>(),
        var other => throw new ControlArgumentException(name, $"must be a number, not {other.ToJsonString()}"),
    };

    /// <summary>One string or a list of strings, as Celery's <c>maybe_list</c> reads <c>task_id</c> and <c>ids</c>.</summary>
    public static List<string> StringOrList(JsonObject args, string name)
    {
        switch (args[name])
        {
            case null:
                return [];
            case JsonValue v when v.TryGetValue<string>(out var s):
                return [s];
            case JsonArray array:
                return [.. array.Select(item => item is JsonValue iv && iv.TryGetValue<string>(out var text)
                    ? text
                    : throw new ControlArgumentException(name, "must be a string or a list of strings"))];
            default:
                throw new ControlArgumentException(name, "must be a string or a list of strings");
        }
    }

    /// <summary>A number written as Python would have received it: an int when it is whole, else a float.</summary>
    public static JsonNode? Number(double? value) =>
        value is not { } d ? null : d == Math.Floor(d) && Math.Abs(d) < 1e15 ? JsonValue.Create((long)d) : JsonValue.Create(d);
}
