using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using MessagePack;

namespace ClusterQueue.Protocol;

/// <summary>
/// Converts task bodies between JSON nodes and msgpack as Python's <c>msgpack.packb(use_bin_type=True)</c> and
/// <c>unpackb(raw=False)</c> see them: no type information, only nil, bool, int, float, str, array and map.
/// </summary>
/// <remarks>
/// The low-level reader and writer are used rather than a typed serializer because a task body has no .NET type:
/// what matters is that every value reads back in Python as the same None, bool, int, float, str, list or dict,
/// with the smallest int encoding and float64 for floats, as Python's packer writes them.
/// </remarks>
internal static class MsgpackBody
{
    private const int MaxDepth = 128;

    /// <summary>Packs the body array <c>[args, kwargs, embed]</c>.</summary>
    /// <exception cref="ArgumentException">An int does not fit msgpack's 64 bits.</exception>
    public static byte[] Write(IReadOnlyList<JsonNode?> items)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(items.Count);
        foreach (var item in items)
        {
            Write(ref writer, item);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a msgpack body and writes it as the JSON text <c>json.dumps</c> would give for the same Python value.</summary>
    public static byte[] ToJson(ReadOnlyMemory<byte> body)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, body.Length * 2));
        var json = new PythonJsonWriter(buffer);
        var reader = new MessagePackReader(body);
        try
        {
            if (reader.End) throw new MessageDecodeException("body", "is empty");
            Value(ref reader, json, 0);
            if (!reader.End) throw new MessageDecodeException("body", $"has {body.Length - reader.Consumed} bytes after the msgpack value");
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw new MessageDecodeException("body", $"is not valid msgpack: {ex.Message}", ex);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(ref MessagePackWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNil();
                break;
            case JsonArray array:
                writer.WriteArrayHeader(array.Count);
                foreach (var item in array)
                {
                    Write(ref writer, item);
                }

                break;
            case JsonObject obj:
                writer.WriteMapHeader(obj.Count);
                foreach (var (key, value) in obj)
                {
                    writer.Write(key);
                    Write(ref writer, value);
                }

                break;
            case JsonValue value:
                WriteScalar(ref writer, PyScalar.From(value));
                break;
        }
    }

    private static void WriteScalar(ref MessagePackWriter writer, PyScalar scalar)
    {
        switch (scalar.Kind)
        {
            case PyKind.None:
                writer.WriteNil();
                break;
            case PyKind.Bool:
                writer.Write(scalar.Bool);
                break;
            case PyKind.Str:
                writer.Write(scalar.Text);
                break;
            case PyKind.Float:
                writer.Write(scalar.Float);
                break;
            default:
                var big = BigInteger.Parse(scalar.Text!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                if (big >= long.MinValue && big <= long.MaxValue)
                {
                    writer.Write((long)big);
                }
                else if (big.Sign > 0 && big <= ulong.MaxValue)
                {
                    writer.Write((ulong)big);
                }
                else
                {
                    // Python's packer raises OverflowError here too.
                    throw new ArgumentException($"the int {scalar.Text} does not fit msgpack's 64-bit integers");
                }

                break;
        }
    }

    private static void Value(ref MessagePackReader reader, PythonJsonWriter json, int depth)
    {
        if (depth > MaxDepth) throw new MessageDecodeException("body", $"nests deeper than {MaxDepth} levels");
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                json.Raw("null"u8);
                break;
            case MessagePackType.Boolean:
                json.Bool(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                json.RawAscii(Integer(ref reader));
                break;
            case MessagePackType.Float:
                json.RawAscii(Float(reader.ReadDouble()));
                break;
            case MessagePackType.String:
                json.String(reader.ReadString());
                break;
            case MessagePackType.Array:
                var count = reader.ReadArrayHeader();
                json.Raw('[');
                for (var i = 0; i < count; i++)
                {
                    if (i > 0) json.Raw(", "u8);
                    Value(ref reader, json, depth + 1);
                }

                json.Raw(']');
                break;
            case MessagePackType.Map:
                var members = reader.ReadMapHeader();
                json.Raw('{');
                var first = true;
                for (var i = 0; i < members; i++)
                {
                    json.Key(Key(ref reader), ref first);
                    Value(ref reader, json, depth + 1);
                }

                json.Raw('}');
                break;
            case MessagePackType.Binary:
                throw new MessageDecodeException("body", "holds msgpack binary (Python bytes), which task arguments cannot carry here; send text or base64");
            case MessagePackType.Extension:
                throw new MessageDecodeException("body", $"holds a msgpack extension type ({reader.ReadExtensionFormatHeader().TypeCode}), which has no plain Python value");
            default:
                throw new MessageDecodeException("body", $"holds an unknown msgpack code 0x{reader.NextCode:x2}");
        }
    }

    private static string Integer(ref MessagePackReader reader) =>
        reader.NextCode == MessagePackCode.UInt64
            ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
            : reader.ReadInt64().ToString(CultureInfo.InvariantCulture);

    private static string Float(double value) =>
        double.IsFinite(value)
            ? PythonFloat.Repr(value)
            : throw new MessageDecodeException("body", $"holds the float {PythonFloat.Repr(value)}, which task arguments cannot carry here");

    /// <summary>A map key as <c>json.dumps</c> turns it into a string: ints and floats in repr, True as "true", None as "null".</summary>
    private static string Key(ref MessagePackReader reader) => reader.NextMessagePackType switch
    {
        MessagePackType.String => reader.ReadString()!,
        MessagePackType.Integer => Integer(ref reader),
        MessagePackType.Float => Float(reader.ReadDouble()),
        MessagePackType.Boolean => reader.ReadBoolean() ? "true" : "false",
        MessagePackType.Nil => NilKey(ref reader),
        var other => throw new MessageDecodeException("body", $"has a map key of msgpack type {other}; only str, int, float, bool and nil keys have a JSON form"),
    };

    private static string NilKey(ref MessagePackReader reader)
    {
        reader.ReadNil();
        return "null";
    }
}
