using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>Celery's JSON form of an exception: <c>{"exc_type", "exc_message", "exc_module"}</c>.</summary>
/// <param name="ExcType">The class name (Python's <c>__qualname__</c>).</param>
/// <param name="ExcMessage">The exception's args, as Python's <c>exc.args</c>.</param>
/// <param name="ExcModule">The defining module; older Celery versions may leave it out.</param>
public sealed record ExceptionInfo(string ExcType, IReadOnlyList<JsonNode?> ExcMessage, string? ExcModule)
{
    /// <summary>What task code raises so a failure carries a Python identity (e.g. <c>ValueError</c> in <c>builtins</c>).</summary>
    public static ExceptionInfo FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is CeleryException celery)
        {
            return new ExceptionInfo(celery.ExcType, celery.Args, celery.ExcModule);
        }

        var type = exception.GetType();
        return new ExceptionInfo(type.Name, [JsonValue.Create(exception.Message)], type.Namespace);
    }

    /// <summary>The exception Celery stores for a revoked task: TaskRevokedError with "revoked", "terminated" or "expired".</summary>
    public static ExceptionInfo Revoked(string reason) =>
        new("TaskRevokedError", [JsonValue.Create(reason)], "celery.exceptions");

    /// <summary>The first arg as text, which is what Python prints as the message.</summary>
    public string Message => ExcMessage.Count switch
    {
        0 => "",
        1 => ArgText(ExcMessage[0]),
        _ => "(" + string.Join(", ", ExcMessage.Select(ArgText)) + ")",
    };

    public JsonObject ToJson()
    {
        var args = new JsonArray();
        foreach (var arg in ExcMessage)
        {
            args.Add(arg?.DeepClone());
        }

        return new JsonObject { ["exc_type"] = ExcType, ["exc_message"] = args, ["exc_module"] = ExcModule };
    }

    /// <summary>Reads an exception object; <c>exc_message</c> may be a list (Celery 4+) or a single value (older Celery).</summary>
    /// <exception cref="ResultFormatException">The node is not an object or has no string <c>exc_type</c>.</exception>
    public static ExceptionInfo FromJson(JsonNode? node, string taskId)
    {
        if (node is not JsonObject obj)
        {
            throw new ResultFormatException(taskId, "result", $"expected an exception object, got {Describe(node)}");
        }

        if (obj["exc_type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var excType) || excType.Length == 0)
        {
            throw new ResultFormatException(taskId, "result.exc_type", $"expected a non-empty string, got {Describe(obj["exc_type"])}");
        }

        string? excModule = null;
        var moduleNode = obj["exc_module"];
        if (moduleNode is not null && (moduleNode is not JsonValue moduleValue || !moduleValue.TryGetValue(out excModule)))
        {
            throw new ResultFormatException(taskId, "result.exc_module", $"expected a string, got {Describe(moduleNode)}");
        }

        IReadOnlyList<JsonNode?> args = obj["exc_message"] switch
        {
            null => [],
            JsonArray list => list.Select(a => a?.DeepClone()).ToList(),
            var single => [single.DeepClone()],
        };
        return new ExceptionInfo(excType, args, excModule);
    }

    private static string ArgText(JsonNode? arg) =>
        arg is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : arg?.ToJsonString() ?? "None";

    internal static string Describe(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
}
