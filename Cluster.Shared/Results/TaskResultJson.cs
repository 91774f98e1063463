using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>Which of Celery's two result layouts to write.</summary>
public enum TaskResultLayout
{
    /// <summary>What key-value and database backends store: status, result, traceback, children, date_done, the extended fields, task_id.</summary>
    BackendMeta,

    /// <summary>The rpc:// reply body: task_id, status, result, traceback, children, and no date_done (interop note 22).</summary>
    RpcBody,
}

/// <summary>Writes and reads <see cref="TaskResult"/> in Celery's JSON, keeping Celery's key order.</summary>
public static class TaskResultJson
{
    // Celery writes datetime.isoformat() of a naive UTC time: microseconds, no offset.
    private const string DateDoneFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff";

    // The default encoder escapes '<', '>', '&' and '+' for HTML pages; a result body is never embedded in HTML,
    // and Celery's own tracebacks are full of '<' and '>' that should stay readable in the store.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(TaskResult result, TaskResultLayout layout = TaskResultLayout.BackendMeta)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, result, layout);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static void Write(Utf8JsonWriter writer, TaskResult result, TaskResultLayout layout)
    {
        writer.WriteStartObject();
        if (layout == TaskResultLayout.RpcBody)
        {
            writer.WriteString("task_id", result.TaskId);
        }

        writer.WriteString("status", result.Status);
        WriteNode(writer, "result", result.Result);
        writer.WriteString("traceback", result.Traceback);
        WriteNode(writer, "children", result.Children ?? new JsonArray());
        if (layout == TaskResultLayout.BackendMeta)
        {
            if (result.DateDone is { } done)
            {
                writer.WriteString("date_done", FormatDateDone(done));
            }
            else
            {
                writer.WriteNull("date_done");
            }

            WriteExtended(writer, result);
            writer.WriteString("task_id", result.TaskId);
        }

        writer.WriteEndObject();
    }

    public static string FormatDateDone(DateTime utc) =>
        ToUtc(utc).ToString(DateDoneFormat, CultureInfo.InvariantCulture);

    /// <summary>Reads either layout. Unknown keys are ignored, as Celery ignores them.</summary>
    /// <exception cref="ResultFormatException">The JSON is malformed or a required field is missing or mistyped.</exception>
    public static TaskResult Parse(string json, string? expectedTaskId = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var label = expectedTaskId ?? "(unknown)";
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ResultFormatException(label, "(body)", "not valid JSON: " + e.Message, e);
        }

        if (root is not JsonObject obj)
        {
            throw new ResultFormatException(label, "(body)", $"expected a JSON object, got {ExceptionInfo.Describe(root)}");
        }

        var taskId = OptionalString(obj, "task_id", label) ?? expectedTaskId
            ?? throw new ResultFormatException(label, "task_id", "missing");
        var status = OptionalString(obj, "status", taskId) ?? throw new ResultFormatException(taskId, "status", "missing");
        return new TaskResult
        {
            TaskId = taskId,
            Status = status,
            Result = obj["result"]?.DeepClone(),
            Traceback = OptionalString(obj, "traceback", taskId),
            Children = obj["children"]?.DeepClone() ?? new JsonArray(),
            DateDone = ParseDateDone(OptionalString(obj, "date_done", taskId), taskId),
            Name = OptionalString(obj, "name", taskId),
            Args = obj["args"]?.DeepClone(),
            Kwargs = obj["kwargs"]?.DeepClone(),
            Worker = OptionalString(obj, "worker", taskId),
            Retries = OptionalInt(obj, "retries", taskId),
            Queue = OptionalString(obj, "queue", taskId),
        };
    }

    /// <summary>Reads Celery's date_done: ISO-8601 with any fraction (or none), naive meaning UTC.</summary>
    internal static DateTime? ParseDateDone(string? text, string taskId)
    {
        if (text is null)
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            throw new ResultFormatException(taskId, "date_done", $"'{text}' is not an ISO-8601 date");
        }

        return parsed.UtcDateTime;
    }

    private static void WriteExtended(Utf8JsonWriter writer, TaskResult result)
    {
        if (result.Name is null && result.Args is null && result.Kwargs is null && result.Worker is null && result.Retries is null && result.Queue is null)
        {
            return;
        }

        writer.WriteString("name", result.Name);
        WriteNode(writer, "args", result.Args);
        WriteNode(writer, "kwargs", result.Kwargs);
        writer.WriteString("worker", result.Worker);
        if (result.Retries is { } retries)
        {
            writer.WriteNumber("retries", retries);
        }
        else
        {
            writer.WriteNull("retries");
        }

        writer.WriteString("queue", result.Queue);
    }

    private static void WriteNode(Utf8JsonWriter writer, string name, JsonNode? node)
    {
        writer.WritePropertyName(name);
        if (node is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            node.WriteTo(writer);
        }
    }

    private static string? OptionalString(JsonObject obj, string key, string taskId)
    {
        var node = obj[key];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        throw new ResultFormatException(taskId, key, $"expected a string, got {ExceptionInfo.Describe(node)}");
    }

    private static int? OptionalInt(JsonObject obj, string key, string taskId)
    {
        var node = obj[key];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number))
        {
            return number;
        }

        throw new ResultFormatException(taskId, key, $"expected an integer, got {ExceptionInfo.Describe(node)}");
    }

    internal static DateTime ToUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}
