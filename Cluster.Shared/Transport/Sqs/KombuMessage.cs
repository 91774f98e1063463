using System.Buffers.Text;
using System.Collections;
using System.Text;
using System.Text.Json;
using ClusterQueue.Protocol;

namespace ClusterQueue.Transport.Sqs;

/// <summary>
/// The SQS message body as kombu's SQS transport writes it: the virtual transport's JSON payload (body in base64,
/// properties with <c>delivery_info</c>), itself base64-encoded, so a Celery client and our worker share queues.
/// </summary>
internal static class KombuMessage
{
    /// <summary>A body that is not kombu's payload: carried as it came, for the consumer to dead-letter as undecodable.</summary>
    public sealed record Decoded(Envelope Message, string Exchange, string RoutingKey);

    public static string Encode(Envelope message, string exchange, string routingKey)
    {
        var p = message.Properties;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("body", Convert.ToBase64String(message.Body.Span));
            writer.WriteString("content-encoding", p.ContentEncoding);
            writer.WriteString("content-type", p.ContentType);
            writer.WritePropertyName("headers");
            WriteValue(writer, message.Headers);
            writer.WriteStartObject("properties");
            WriteOptional(writer, "correlation_id", p.CorrelationId);
            WriteOptional(writer, "reply_to", p.ReplyTo);
            writer.WriteNumber("delivery_mode", p.DeliveryMode);
            if (p.Priority is { } priority)
            {
                writer.WriteNumber("priority", priority);
            }

            WriteOptional(writer, "expiration", p.Expiration);
            WriteOptional(writer, "message_id", p.MessageId);
            writer.WriteStartObject("delivery_info");
            writer.WriteString("exchange", exchange);
            writer.WriteString("routing_key", routingKey);
            writer.WriteEndObject();
            writer.WriteString("body_encoding", "base64");
            writer.WriteString("delivery_tag", Guid.NewGuid().ToString());
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads kombu's payload, base64-wrapped or plain as kombu's <c>sqs_base64_encoding</c> option says.</summary>
    public static Decoded Decode(string body, string queue)
    {
        var raw = FromOptionalBase64(body);
        try
        {
            using var document = JsonDocument.Parse(raw);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("body", out var payload) && payload.ValueKind == JsonValueKind.String)
            {
                return FromKombu(root, properties, payload.GetString()!, queue);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not kombu's payload: handed on as it came, so the worker dead-letters it naming the problem.
        }

        return new Decoded(new Envelope { Body = raw, Properties = MessageProperties.Json with { ContentType = "application/octet-stream" } }, "", queue);
    }

    /// <summary>kombu's test: base64 only when encoding the decoded bytes gives the text back, so plain text is never mangled.</summary>
    private static byte[] FromOptionalBase64(string body)
    {
        if (Base64.IsValid(body, out var length) && length > 0)
        {
            var bytes = Convert.FromBase64String(body);
            if (Convert.ToBase64String(bytes) == body)
            {
                return bytes;
            }
        }

        return Encoding.UTF8.GetBytes(body);
    }

    private static Decoded FromKombu(JsonElement root, JsonElement properties, string payload, string queue)
    {
        var base64 = properties.TryGetProperty("body_encoding", out var encoding) && encoding.ValueKind == JsonValueKind.String
            && encoding.GetString() == "base64";
        var body = base64 ? Convert.FromBase64String(payload) : Encoding.UTF8.GetBytes(payload);
        var headers = root.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object
            ? (IReadOnlyDictionary<string, object?>)ReadValue(h)!
            : Envelope.NoHeaders;
        var exchange = "";
        var routingKey = queue;
        if (properties.TryGetProperty("delivery_info", out var info) && info.ValueKind == JsonValueKind.Object)
        {
            exchange = String(info, "exchange") ?? "";
            routingKey = String(info, "routing_key") ?? queue;
        }

        var defaults = MessageProperties.Json;
        var message = new Envelope
        {
            Body = body,
            Headers = headers,
            Properties = new MessageProperties
            {
                ContentType = String(root, "content-type") ?? defaults.ContentType,
                ContentEncoding = String(root, "content-encoding") ?? defaults.ContentEncoding,
                DeliveryMode = properties.TryGetProperty("delivery_mode", out var mode) && mode.TryGetByte(out var m) ? m : defaults.DeliveryMode,
                Priority = properties.TryGetProperty("priority", out var priority) && priority.TryGetByte(out var p) ? p : null,
                CorrelationId = String(properties, "correlation_id"),
                ReplyTo = String(properties, "reply_to"),
                Expiration = String(properties, "expiration"),
                MessageId = String(properties, "message_id"),
            },
        };
        return new Decoded(message, exchange, routingKey);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Header values as plain JSON, the way Python's json writes them.</summary>
    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int number:
                writer.WriteNumberValue(number);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case double number:
                // 2.0 stays a float for Python, where System.Text.Json would write 2.
                writer.WriteRawValue(PythonFloat.Json(number), skipInputValidation: true);
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }

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
                throw new PreconditionFailedException($"a header value of type {value.GetType().Name} cannot be carried");
        }
    }

    /// <summary>A repeated key keeps its last value, as Python's json does.</summary>
    private static Dictionary<string, object?> ReadObject(JsonElement element)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            map[property.Name] = ReadValue(property.Value);
        }

        return map;
    }

    /// <summary>Numbers come back as the narrowest of int, long and double, as the other transports hand out Python's ints.</summary>
    private static object? ReadValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.Number when element.TryGetInt32(out var i) => i,
        JsonValueKind.Number when element.TryGetInt64(out var l) => l,
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.Array => element.EnumerateArray().Select(ReadValue).ToList(),
        JsonValueKind.Object => ReadObject(element),
        _ => throw new FormatException($"unexpected JSON {element.ValueKind} in headers"),
    };
}
