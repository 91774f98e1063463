using System.Globalization;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Protocol;

namespace ClusterQueue.Canvas;

/// <summary>
/// A signature's <c>options</c> (what Celery's <c>sig.set(...)</c> and <c>freeze</c> put there) as the send options of
/// the task it becomes. Options that do not shape a message (<c>shadow</c>, <c>add_to_parent</c>) are ignored, as Celery's
/// <c>apply_async</c> ignores unknown ones.
/// </summary>
public static class SignatureOptions
{
    /// <summary>The send options; <paramref name="path"/> names the signature in errors.</summary>
    /// <exception cref="MessageDecodeException">An option has the wrong type; the message names it.</exception>
    public static SendOptions ToSendOptions(JsonObject options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = new Reader(options, path);
        return new SendOptions
        {
            TaskId = reader.String("task_id"),
            Queue = reader.Queue(),
            Exchange = reader.String("exchange"),
            RoutingKey = reader.String("routing_key"),
            Priority = reader.Priority(),
            Countdown = reader.Seconds("countdown"),
            Eta = reader.Time("eta"),
            // Celery takes expires as seconds from now or as a time.
            ExpiresIn = IsString(options["expires"]) ? null : reader.Seconds("expires"),
            Expires = IsString(options["expires"]) ? reader.Time("expires") : null,
            TimeLimit = reader.Seconds("time_limit"),
            SoftTimeLimit = reader.Seconds("soft_time_limit"),
            IgnoreResult = reader.Bool("ignore_result"),
            ReplyTo = reader.String("reply_to"),
            Serializer = reader.String("serializer"),
            Compression = reader.String("compression"),
            ParentId = reader.String("parent_id"),
            RootId = reader.String("root_id"),
            Group = reader.String("group_id"),
            Link = reader.Signatures("link"),
            LinkError = reader.Signatures("link_error"),
        };
    }

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String;

    private readonly struct Reader(JsonObject options, string path)
    {
        public string? String(string name) => options[name] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            var other => throw Wrong(name, "a string", other),
        };

        // Celery sends a queue by name; a Queue object serializes as {"name": ...}.
        public string? Queue() => options["queue"] is JsonObject queue ? new Reader(queue, path + ".options.queue").String("name") : String("queue");

        public byte? Priority() => options["priority"] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<int>(out var priority) && priority is >= 0 and <= 255 => (byte)priority,
            var other => throw Wrong("priority", "an integer 0-255", other),
        };

        public TimeSpan? Seconds(string name) => options[name] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<double>(out var seconds) && seconds >= 0 && double.IsFinite(seconds) => TimeSpan.FromSeconds(seconds),
            var other => throw Wrong(name, "a number of seconds", other),
        };

        public DateTimeOffset? Time(string name) => options[name] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) => time,
            var other => throw Wrong(name, "an ISO 8601 time", other),
        };

        public bool? Bool(string name) => options[name] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
            var other => throw Wrong(name, "a boolean", other),
        };

        // Celery keeps one callback as a signature and several as a list.
        public IReadOnlyList<Signature>? Signatures(string name)
        {
            var where = $"{path}.options.{name}";
            return options[name] switch
            {
                null => null,
                JsonArray list => list.Select((item, i) => Signature.FromJson(item, $"{where}[{i}]")).ToList(),
                JsonObject one => [Signature.FromJson(one, where)],
                var other => throw Wrong(name, "a signature or a list of them", other),
            };
        }

        private MessageDecodeException Wrong(string name, string expected, JsonNode? got) =>
            new($"{path}.options.{name}", $"must be {expected}, got {got?.ToJsonString() ?? "null"}");
    }
}
