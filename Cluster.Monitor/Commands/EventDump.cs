using System.Globalization;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Protocol;

namespace ClusterQueue.Monitor.Commands;

/// <summary>One line per event in the format of <c>celery events --dump</c> (celery.events.dumper).</summary>
public sealed class EventDump
{
    private readonly Dictionary<string, string> taskNames = new(StringComparer.Ordinal);

    /// <summary>Celery's <c>humanize_type</c>.</summary>
    private static string Humanize(string type) => type switch
    {
        WorkerEvent.Offline => "shutdown",
        WorkerEvent.Online => "started",
        WorkerEvent.Heartbeat => "heartbeat",
        _ => type.Replace('-', ' '),
    };

    public string Format(ClusterEvent evt)
    {
        var fields = evt.ToJson();
        var timestamp = PythonDateTime(fields["timestamp"]?.GetValue<double>() ?? 0);
        fields.Remove("timestamp");
        fields.Remove("type");
        fields.Remove("hostname");
        var type = evt.Type.ToLowerInvariant();
        if (!type.StartsWith("task-", StringComparison.Ordinal))
        {
            return Line(evt.Hostname, timestamp, type, null, fields);
        }

        var uuid = fields["uuid"]?.GetValue<string>() ?? "";
        fields.Remove("uuid");
        string task;
        if (type is "task-received" or "task-sent")
        {
            task = taskNames[uuid] = $"{Take(fields, "name")}({uuid}) args={Take(fields, "args")} kwargs={Take(fields, "kwargs")}";
        }
        else
        {
            task = taskNames.GetValueOrDefault(uuid, "");
        }

        return Line(evt.Hostname, timestamp, type, task, fields);
    }

    private static string Line(string hostname, string timestamp, string type, string? task, JsonObject fields)
    {
        var text = string.Join(", ", fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={Str(f.Value)}"));
        var sep = text.Length > 0 ? ":" : "";
        return task is null
            ? $"{hostname} [{timestamp}] {Humanize(type)}{sep} {text}"
            : $"{hostname} [{timestamp}] {Humanize(type)}{sep} {task} {text}";
    }

    private static string Take(JsonObject fields, string key)
    {
        var value = fields[key];
        fields.Remove(key);
        return Str(value);
    }

    /// <summary>Python's <c>str()</c>: a string as it is, anything else as its repr.</summary>
    private static string Str(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text) ? text : PythonRepr.Repr(value);

    /// <summary><c>str(datetime.utcfromtimestamp(t))</c>: microseconds only when there are any.</summary>
    private static string PythonDateTime(double timestamp)
    {
        var micros = (long)Math.Round(timestamp * 1_000_000);
        var time = DateTime.UnixEpoch.AddTicks(micros * 10);
        return time.ToString(micros % 1_000_000 == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
    }
}
