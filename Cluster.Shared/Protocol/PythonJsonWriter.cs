using System.Buffers;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>
/// Writes JSON byte for byte as Python's <c>json.dumps</c> does with its defaults: <c>", "</c> and <c>": "</c>
/// separators, <c>ensure_ascii</c> escapes, floats in repr form (<c>1.0</c>, <c>1e-05</c>), NaN and Infinity allowed.
/// </summary>
/// <remarks>
/// Writing Python's text rather than compact JSON keeps an int an int and a float a float for a Python peer
/// (System.Text.Json writes 1.0 as 1), and lets golden tests compare bodies with captured bytes.
/// </remarks>
internal sealed class PythonJsonWriter(ArrayBufferWriter<byte> buffer)
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    public void Raw(ReadOnlySpan<byte> ascii) => buffer.Write(ascii);

    public void Raw(char ascii)
    {
        buffer.GetSpan(1)[0] = (byte)ascii;
        buffer.Advance(1);
    }

    public void RawAscii(string ascii)
    {
        var span = buffer.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++) span[i] = (byte)ascii[i];
        buffer.Advance(ascii.Length);
    }

    /// <summary>Writes <c>"key": </c>, preceded by <c>", "</c> unless it is the first member.</summary>
    public void Key(string key, ref bool first)
    {
        if (!first) Raw(", "u8);
        first = false;
        String(key);
        Raw(": "u8);
    }

    public void String(string? text)
    {
        if (text is null)
        {
            Raw("null"u8);
            return;
        }

        // Worst case every char becomes \uXXXX.
        var span = buffer.GetSpan(text.Length * 6 + 2);
        var n = 0;
        span[n++] = (byte)'"';
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': span[n++] = (byte)'\\'; span[n++] = (byte)'"'; break;
                case '\\': span[n++] = (byte)'\\'; span[n++] = (byte)'\\'; break;
                case '\n': span[n++] = (byte)'\\'; span[n++] = (byte)'n'; break;
                case '\r': span[n++] = (byte)'\\'; span[n++] = (byte)'r'; break;
                case '\t': span[n++] = (byte)'\\'; span[n++] = (byte)'t'; break;
                case '\b': span[n++] = (byte)'\\'; span[n++] = (byte)'b'; break;
                case '\f': span[n++] = (byte)'\\'; span[n++] = (byte)'f'; break;
                case >= ' ' and <= '~': span[n++] = (byte)c; break;
                default:
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'u';
                    span[n++] = Hex[(c >> 12) & 0xF];
                    span[n++] = Hex[(c >> 8) & 0xF];
                    span[n++] = Hex[(c >> 4) & 0xF];
                    span[n++] = Hex[c & 0xF];
                    break;
            }
        }

        span[n++] = (byte)'"';
        buffer.Advance(n);
    }

    public void Bool(bool value) => Raw(value ? "true"u8 : "false"u8);

    public void Node(JsonNode? node)
    {
        switch (node)
        {
            case null:
                Raw("null"u8);
                break;
            case JsonArray array:
                Raw('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) Raw(", "u8);
                    Node(array[i]);
                }

                Raw(']');
                break;
            case JsonObject obj:
                Object(obj, first: true);
                Raw('}');
                break;
            case JsonValue value:
                Scalar(PyScalar.From(value));
                break;
        }
    }

    /// <summary>Writes an object's members after an opening brace (written here when <paramref name="first"/>), without the closing brace.</summary>
    public void Object(JsonObject obj, bool first)
    {
        if (first) Raw('{');
        foreach (var (key, item) in obj)
        {
            Key(key, ref first);
            Node(item);
        }
    }

    private void Scalar(PyScalar scalar)
    {
        switch (scalar.Kind)
        {
            case PyKind.None: Raw("null"u8); break;
            case PyKind.Bool: Bool(scalar.Bool); break;
            case PyKind.Str: String(scalar.Text); break;
            case PyKind.Int: RawAscii(scalar.Text!); break;
            default: RawAscii(PythonFloat.Json(scalar.Float)); break;
        }
    }
}
