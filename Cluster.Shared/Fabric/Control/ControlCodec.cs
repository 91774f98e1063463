using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Fabric.Control;

/// <summary>Encodes and decodes pidbox requests and replies exactly as kombu 5.2.4 puts them on the wire.</summary>
public static class ControlCodec
{
    private static readonly MessageProperties RequestProperties = MessageProperties.Json;

    // Replies are transient, as kombu publishes them (delivery_mode 1).
    private static readonly MessageProperties ReplyProperties = MessageProperties.Json with { DeliveryMode = 1 };

    public static Envelope EncodeRequest(ControlRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new JsonObject
        {
            ["method"] = request.Method,
            ["arguments"] = FabricJson.Clone(request.Arguments),
            ["destination"] = request.Destination is null ? null : new JsonArray([.. request.Destination.Select(d => (JsonNode?)d)]),
            ["pattern"] = request.Pattern,
            ["matcher"] = request.Matcher,
        };
        if (request.Ticket is not null && request.ReplyTo is not null)
        {
            body["ticket"] = request.Ticket;
            body["reply_to"] = new JsonObject { ["exchange"] = request.ReplyTo.Exchange, ["routing_key"] = request.ReplyTo.RoutingKey };
        }

        return new Envelope
        {
            Body = FabricJson.Serialize(body),
            Properties = RequestProperties,
            Headers = new Dictionary<string, object?> { ["clock"] = ClockHeader(request.Clock), ["expires"] = request.Expires },
        };
    }

    /// <summary>Reads a request; anything malformed is a <see cref="FabricMessageException"/> naming the field.</summary>
    public static ControlRequest DecodeRequest(Envelope message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (FabricJson.Parse(message.Body, "control request body") is not JsonObject body)
        {
            throw new FabricMessageException("control request body must be a JSON object");
        }

        var method = body["method"] is JsonValue m && m.TryGetValue<string>(out var name) && name.Length > 0
            ? name
            : throw new FabricMessageException("control request field 'method' must be a non-empty string");
        var arguments = body["arguments"] switch
        {
            null => [],
            JsonObject o => (JsonObject)o.DeepClone(),
            _ => throw new FabricMessageException("control request field 'arguments' must be an object or null"),
        };
        ReplyAddress? replyTo = null;
        if (body["reply_to"] is JsonObject r)
        {
            replyTo = new ReplyAddress(
                OptionalString(r, "exchange", "reply_to.exchange") ?? "",
                OptionalString(r, "routing_key", "reply_to.routing_key") ?? throw new FabricMessageException("control request field 'reply_to.routing_key' is missing"));
        }
        else if (body["reply_to"] is not null)
        {
            throw new FabricMessageException("control request field 'reply_to' must be an object or null");
        }

        return new ControlRequest
        {
            Method = method,
            Arguments = arguments,
            Destination = Destination(body["destination"]),
            Pattern = OptionalString(body, "pattern", "pattern"),
            Matcher = OptionalString(body, "matcher", "matcher"),
            Ticket = OptionalString(body, "ticket", "ticket"),
            ReplyTo = replyTo,
            Clock = HeaderLong(message.Headers, "clock"),
            Expires = HeaderDouble(message.Headers, "expires"),
        };
    }

    public static Envelope EncodeReply(ControlReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var headers = new Dictionary<string, object?>();
        if (reply.Ticket is not null) headers["ticket"] = reply.Ticket;
        headers["clock"] = ClockHeader(reply.Clock);
        return new Envelope
        {
            Body = FabricJson.Serialize(new JsonObject { [reply.Node] = FabricJson.Clone(reply.Value) }),
            Properties = ReplyProperties,
            Headers = headers,
        };
    }

    /// <summary>Reads a reply <c>{"&lt;node&gt;": value}</c>; a body with no member or several is a <see cref="FabricMessageException"/>.</summary>
    public static ControlReply DecodeReply(Envelope message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (FabricJson.Parse(message.Body, "control reply body") is not JsonObject body || body.Count != 1)
        {
            throw new FabricMessageException("control reply body must be an object with exactly one member, the replying node");
        }

        var (node, value) = body.First();
        return new ControlReply(node, value?.DeepClone(), HeaderString(message.Headers, "ticket"), HeaderLong(message.Headers, "clock"));
    }

    // py-amqp sends an int that fits 32 bits as 'I'; a long would arrive as 'L' (interop note 3).
    private static object ClockHeader(long clock) => clock is >= int.MinValue and <= int.MaxValue ? (object)(int)clock : clock;

    private static List<string>? Destination(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonArray array:
                var names = new List<string>(array.Count);
                foreach (var item in array)
                {
                    names.Add(item is JsonValue v && v.TryGetValue<string>(out var s)
                        ? s
                        : throw new FabricMessageException("control request field 'destination' must be a list of node names"));
                }

                return names;
            default:
                throw new FabricMessageException("control request field 'destination' must be a list of node names or null");
        }
    }

    private static string? OptionalString(JsonObject obj, string key, string field) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new FabricMessageException($"control message field '{field}' must be a string or null"),
    };

    private static long HeaderLong(IReadOnlyDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) ? value switch
        {
            null => 0,
            int i => i,
            long l => l,
            uint u => u,
            short s => s,
            byte b => b,
            double d when d == Math.Floor(d) => (long)d,
            string text when long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new FabricMessageException($"control message header '{name}' must be an integer, not {value.GetType().Name}"),
        } : 0;

    private static double HeaderDouble(IReadOnlyDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) ? value switch
        {
            null => 0,
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            _ => throw new FabricMessageException($"control message header '{name}' must be a number, not {value.GetType().Name}"),
        } : 0;

    private static string? HeaderString(IReadOnlyDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) ? value switch
        {
            null => null,
            string s => s,
            byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
            _ => throw new FabricMessageException($"control message header '{name}' must be a string, not {value.GetType().Name}"),
        } : null;
}
