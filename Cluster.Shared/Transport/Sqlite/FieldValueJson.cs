using System.Collections;
using System.Globalization;
using System.Text.Json;
using ClusterQueue.Protocol;

namespace ClusterQueue.Transport.Sqlite;

/// <summary>Stores envelope metadata and argument maps as JSON that keeps the field types (int, long, double) apart.</summary>
/// <remarks>Strings, booleans, null and lists are plain JSON; numbers and maps are wrapped as {"i":1}, {"l":1}, {"d":1.5}, {"m":{…}}.</remarks>
internal static class FieldValueJson
{
    public static string WriteMap(IReadOnlyDictionary<string, object?>? map)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteObject(writer, map ?? Envelope.NoHeaders);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IReadOnlyDictionary<string, object?> ReadMap(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ReadObject(document.RootElement);
    }

    /// <summary>The envelope without its body: properties and headers.</summary>
    public static string WriteMeta(Envelope envelope)
    {
        var p = envelope.Properties;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("content_type", p.ContentType);
            writer.WriteString("content_encoding", p.ContentEncoding);
            writer.WriteNumber("delivery_mode", p.DeliveryMode);
            WriteOptional(writer, "priority", p.Priority);
            WriteOptional(writer, "correlation_id", p.CorrelationId);
            WriteOptional(writer, "reply_to", p.ReplyTo);
            WriteOptional(writer, "expiration", p.Expiration);
            WriteOptional(writer, "message_id", p.MessageId);
            writer.WritePropertyName("headers");
            WriteObject(writer, envelope.Headers);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static Envelope ReadEnvelope(string meta, byte[] body)
    {
        using var document = JsonDocument.Parse(meta);
        var root = document.RootElement;
        return new Envelope
        {
            Body = body,
            Properties = new MessageProperties
            {
                ContentType = root.GetProperty("content_type").GetString()!,
                ContentEncoding = root.GetProperty("content_encoding").GetString()!,
                DeliveryMode = root.GetProperty("delivery_mode").GetByte(),
                Priority = root.TryGetProperty("priority", out var priority) ? priority.GetByte() : null,
                CorrelationId = OptionalString(root, "correlation_id"),
                ReplyTo = OptionalString(root, "reply_to"),
                Expiration = OptionalString(root, "expiration"),
                MessageId = OptionalString(root, "message_id"),
            },
            Headers = ReadObject(root.GetProperty("headers")),
        };
    }

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, byte? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> map)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in map)
        {
            writer.WritePropertyName(key);
            WriteValue(writer, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteStartObject();
                writer.WriteNumber("i", i);
                writer.WriteEndObject();
                break;
            case long l:
                writer.WriteStartObject();
                writer.WriteNumber("l", l);
                writer.WriteEndObject();
                break;
            case double d:
                writer.WriteStartObject();
                if (double.IsFinite(d))
                {
                    writer.WriteNumber("d", d);
                }
                else
                {
                    // JSON has no NaN or infinities.
                    writer.WriteString("d", d.ToString("R", CultureInfo.InvariantCulture));
                }

                writer.WriteEndObject();
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                writer.WritePropertyName("m");
                WriteObject(writer, map);
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new PreconditionFailedException($"a value of type {value.GetType().Name} is not an AMQP field type");
        }
    }

    private static Dictionary<string, object?> ReadObject(JsonElement element)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            map[property.Name] = ReadValue(property.Value);
        }

        return map;
    }

    private static object? ReadValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => element.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(ReadValue).ToList(),
        JsonValueKind.Object => ReadWrapped(element.EnumerateObject().Single()),
        _ => throw new FormatException($"unexpected JSON {element.ValueKind} in stored message"),
    };

    private static object? ReadWrapped(JsonProperty wrapped) => wrapped.Name switch
    {
        "i" => wrapped.Value.GetInt32(),
        "l" => wrapped.Value.GetInt64(),
        "d" when wrapped.Value.ValueKind == JsonValueKind.String => double.Parse(wrapped.Value.GetString()!, CultureInfo.InvariantCulture),
        "d" => wrapped.Value.GetDouble(),
        "m" => ReadObject(wrapped.Value),
        _ => throw new FormatException($"unexpected field type tag '{wrapped.Name}' in stored message"),
    };
}
