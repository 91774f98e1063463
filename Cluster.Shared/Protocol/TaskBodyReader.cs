using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>
/// Reads a protocol-2 body <c>[args, kwargs, embed]</c> in one pass, naming the element at fault on bad input.
/// </summary>
/// <remarks>
/// Values are built eagerly: a lazily parsed <see cref="JsonNode"/> would surface duplicate keys or bad shapes later,
/// far from the decoder. A repeated key keeps its last value, as Python's json does.
/// </remarks>
internal static class TaskBodyReader
{
    private const int MaxDepth = 128;

    public static (JsonArray Args, JsonObject Kwargs, TaskEmbed Embed) Read(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            if (!reader.Read()) throw new MessageDecodeException("body", "is empty");
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new MessageDecodeException("body", $"must be a JSON array [args, kwargs, embed], got {Kind(reader.TokenType)} (protocol 1 bodies are not supported)");
            }

            var args = (JsonArray)Element(ref reader, 0, JsonTokenType.StartArray, "an array (args)");
            var kwargs = (JsonObject)Element(ref reader, 1, JsonTokenType.StartObject, "an object (kwargs)");
            NextElement(ref reader, 2);
            Expect(ref reader, JsonTokenType.StartObject, "body[2]", "an object (embed)");
            var embed = ReadEmbed(ref reader);
            if (!reader.Read()) throw new JsonException("the body ends inside the array");
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                var count = 3;
                do
                {
                    reader.Skip();
                    count++;
                    if (!reader.Read()) throw new JsonException("the body ends inside the array");
                }
                while (reader.TokenType != JsonTokenType.EndArray);
                throw new MessageDecodeException("body", $"must have 3 elements [args, kwargs, embed], got {count}");
            }

            // The reader itself rejects anything after the closing bracket.
            while (reader.Read())
            {
            }

            return (args, kwargs, embed);
        }
        catch (JsonException ex)
        {
            throw new MessageDecodeException("body", $"is not valid JSON: {ex.Message}", ex);
        }
    }

    private static JsonNode Element(ref Utf8JsonReader reader, int index, JsonTokenType start, string expected)
    {
        NextElement(ref reader, index);
        Expect(ref reader, start, $"body[{index}]", expected);
        return Node(ref reader)!;
    }

    private static void NextElement(ref Utf8JsonReader reader, int index)
    {
        if (!reader.Read()) throw new JsonException("the body ends inside the array");
        if (reader.TokenType == JsonTokenType.EndArray)
        {
            throw new MessageDecodeException("body", $"must have 3 elements [args, kwargs, embed], got {index}");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string field, string expected)
    {
        if (reader.TokenType != type) throw new MessageDecodeException(field, $"must be {expected}, got {Kind(reader.TokenType)}");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, EmbedPath field, string expected)
    {
        if (reader.TokenType != type) throw new MessageDecodeException(field.ToString(), $"must be {expected}, got {Kind(reader.TokenType)}");
    }

    private static TaskEmbed ReadEmbed(ref Utf8JsonReader reader)
    {
        IReadOnlyList<Signature>? callbacks = null, errbacks = null, chain = null;
        Signature? chord = null;
        var extra = new JsonObject();
        while (ReadProperty(ref reader, out var name))
        {
            var field = new EmbedPath(name);
            switch (name)
            {
                case "callbacks": callbacks = SignatureList(ref reader, field); break;
                case "errbacks": errbacks = SignatureList(ref reader, field); break;
                case "chain": chain = SignatureList(ref reader, field); break;
                case "chord": chord = reader.TokenType == JsonTokenType.Null ? null : ReadSignature(ref reader, field); break;
                default: extra[name] = Node(ref reader); break;
            }
        }

        return new TaskEmbed { Callbacks = callbacks, Errbacks = errbacks, Chain = chain, Chord = chord, Extra = extra };
    }

    private static List<Signature>? SignatureList(ref Utf8JsonReader reader, EmbedPath field)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        Expect(ref reader, JsonTokenType.StartArray, field, "a list of signatures or null");
        var list = new List<Signature>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(ReadSignature(ref reader, field with { Index = list.Count }));
        }

        return list;
    }

    private static Signature ReadSignature(ref Utf8JsonReader reader, EmbedPath field)
    {
        Expect(ref reader, JsonTokenType.StartObject, field, "an object (signature)");
        string? task = null, subtaskType = null;
        JsonArray? args = null;
        JsonObject? kwargs = null, options = null;
        var immutable = false;
        var extra = new JsonObject();
        while (ReadProperty(ref reader, out var name))
        {
            var member = field with { Member = name };
            switch (name)
            {
                case "task":
                    Expect(ref reader, JsonTokenType.String, member, "a string");
                    task = reader.GetString();
                    break;
                case "args":
                    Expect(ref reader, JsonTokenType.StartArray, member, "an array");
                    args = (JsonArray)Node(ref reader)!;
                    break;
                case "kwargs":
                    Expect(ref reader, JsonTokenType.StartObject, member, "an object");
                    kwargs = (JsonObject)Node(ref reader)!;
                    break;
                case "options":
                    Expect(ref reader, JsonTokenType.StartObject, member, "an object");
                    options = (JsonObject)Node(ref reader)!;
                    break;
                case "subtask_type":
                    if (reader.TokenType != JsonTokenType.Null) Expect(ref reader, JsonTokenType.String, member, "a string or null");
                    subtaskType = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
                    break;
                case "immutable":
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        throw new MessageDecodeException(member.ToString(), $"must be a boolean, got {Kind(reader.TokenType)}");
                    }

                    immutable = reader.GetBoolean();
                    break;
                default:
                    extra[name] = Node(ref reader);
                    break;
            }
        }

        if (task is null) throw new MessageDecodeException((field with { Member = "task" }).ToString(), "is missing");
        return new Signature
        {
            Task = task, Args = args ?? [], Kwargs = kwargs ?? [], Options = options ?? [],
            SubtaskType = subtaskType, Immutable = immutable, Extra = extra,
        };
    }

    /// <summary>Moves to the next property's value; false at the end of the object.</summary>
    private static bool ReadProperty(ref Utf8JsonReader reader, out string name)
    {
        name = "";
        if (!reader.Read()) throw new JsonException("the body ends inside an object");
        if (reader.TokenType == JsonTokenType.EndObject) return false;
        name = reader.GetString()!;
        if (!reader.Read()) throw new JsonException("the body ends inside an object");
        return true;
    }

    /// <summary>Builds the value starting at the current token.</summary>
    internal static JsonNode? Node(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartArray:
                var array = new JsonArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) array.Add(Node(ref reader));
                return array;
            case JsonTokenType.StartObject:
                var obj = new JsonObject();
                while (ReadProperty(ref reader, out var name)) obj[name] = Node(ref reader);
                return obj;
            case JsonTokenType.String:
                return JsonValue.Create(reader.GetString()!);
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return Number(ref reader);
            default:
                throw new JsonException($"unexpected token {reader.TokenType}");
        }
    }

    /// <summary>
    /// A number is kept as the JSON element it was, digits and all, so that task code can read it as any numeric type
    /// it fits (<c>GetValue&lt;int&gt;</c>, <c>&lt;long&gt;</c>, <c>&lt;double&gt;</c>), an integer stays an integer when
    /// re-encoded, and big integers lose nothing. A primitive-backed value would convert only to its own type.
    /// </summary>
    private static JsonValue Number(ref Utf8JsonReader reader) => JsonValue.Create(JsonElement.ParseValue(ref reader))!;

    private static string Kind(JsonTokenType type) => type switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.StartObject => "object",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    /// <summary>Where in the embed a value sits, e.g. <c>body[2].chain[0].task</c>; turned into text only for an error.</summary>
    /// <summary>A signature held anywhere else than a message's embed (a chord's body in args, a group's members): <paramref name="path"/> names it in errors.</summary>
    public static Signature ReadSignature(JsonNode? node, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = MaxDepth });
        reader.Read();
        return ReadSignature(ref reader, new EmbedPath(path, Root: ""));
    }

    private readonly record struct EmbedPath(string Key, int Index = -1, string? Member = null, string Root = "body[2].")
    {
        public override string ToString() =>
            Root + Key + (Index >= 0 ? $"[{Index}]" : "") + (Member is null ? "" : "." + Member);
    }
}
