using System.Text.Json;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>One task message captured from Celery 5.2.6 traffic, turned into the envelope a transport would deliver.</summary>
public sealed record CapturedMessage(string File, int Seq, Envelope Envelope, JsonElement Raw)
{
    public override string ToString() => $"{File}#{Seq}";

    public JsonElement Headers => Raw.GetProperty("headers");

    public JsonElement HeaderTypes => Raw.GetProperty("header_amqp_types");

    public JsonElement Body => Raw.GetProperty("body");
}

/// <summary>Loads the captured fixtures copied under Fixtures/protocol.</summary>
public static class CapturedMessages
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "protocol");

    /// <summary>Every task message of the task-* and canvas-* captures.</summary>
    public static IReadOnlyList<CapturedMessage> CeleryClientTasks() =>
        Directory.GetFiles(Folder, "task-*.json").Concat(Directory.GetFiles(Folder, "canvas-*.json"))
            .Order(StringComparer.Ordinal)
            .SelectMany(Load)
            .ToList();

    /// <summary>The hand-made messages published to a real worker, with the outcomes recorded beside them.</summary>
    public static IReadOnlyList<CapturedMessage> Handmade() => Load(Path.Combine(Folder, "interop-handmade-task-messages.json")).ToList();

    public static JsonDocument Document(string file) => JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(Folder, file)));

    private static IEnumerable<CapturedMessage> Load(string path)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        foreach (var message in doc.RootElement.GetProperty("messages").EnumerateArray())
        {
            if (message.GetProperty("role").GetString() != "task message") continue;
            var raw = message.Clone();
            yield return new CapturedMessage(Path.GetFileName(path), raw.GetProperty("seq").GetInt32(), ToEnvelope(raw), raw);
        }
    }

    private static Envelope ToEnvelope(JsonElement message)
    {
        var p = message.GetProperty("properties");
        string? Text(string name) => p.TryGetProperty(name, out var v) ? v.GetString() : null;
        var headers = new OrderedDictionary<string, object?>();
        foreach (var header in message.GetProperty("headers").EnumerateObject()) headers[header.Name] = HeaderValue(header.Value);
        return new Envelope
        {
            Body = Convert.FromBase64String(message.GetProperty("body_raw_base64").GetString()!),
            Headers = headers,
            Properties = new MessageProperties
            {
                ContentType = Text("content_type")!,
                ContentEncoding = Text("content_encoding")!,
                DeliveryMode = p.GetProperty("delivery_mode").GetByte(),
                Priority = p.TryGetProperty("priority", out var priority) ? priority.GetByte() : null,
                CorrelationId = Text("correlation_id"),
                ReplyTo = Text("reply_to"),
                Expiration = Text("expiration"),
            },
        };
    }

    /// <summary>The CLR value a transport hands over for an AMQP field (S, I, L, d, t, V, A, F).</summary>
    public static object? HeaderValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number when value.TryGetInt32(out var i) => i,
        JsonValueKind.Number when value.TryGetInt64(out var l) => l,
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.Array => value.EnumerateArray().Select(HeaderValue).ToList(),
        _ => value.EnumerateObject().ToDictionary(p => p.Name, p => HeaderValue(p.Value)),
    };

    /// <summary>The AMQP type tag py-amqp would use for a header value of this CLR type, in the fixtures' notation.</summary>
    public static string TypeTags(object? value) => value switch
    {
        string => "\"S\"",
        int => "\"I\"",
        long => "\"L\"",
        double => "\"d\"",
        bool => "\"t\"",
        null => "\"V\"",
        IEnumerable<KeyValuePair<string, object?>> table => "{" + string.Join(", ", table.Select(p => $"\"{p.Key}\": {TypeTags(p.Value)}")) + "}",
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(TypeTags)) + "]",
        _ => $"\"?{value.GetType().Name}\"",
    };

    /// <summary>The fixture's <c>header_amqp_types</c> entry in the same notation as <see cref="TypeTags"/>.</summary>
    public static string FixtureTags(JsonElement tags) => tags.ValueKind switch
    {
        JsonValueKind.String => $"\"{tags.GetString()}\"",
        JsonValueKind.Array => "[" + string.Join(", ", tags.EnumerateArray().Select(FixtureTags)) + "]",
        _ => "{" + string.Join(", ", tags.EnumerateObject().Select(p => $"\"{p.Name}\": {FixtureTags(p.Value)}")) + "}",
    };
}
