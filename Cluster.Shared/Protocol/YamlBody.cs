using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ClusterQueue.Protocol;

/// <summary>
/// Converts task bodies between JSON nodes and YAML as Python's <c>yaml.safe_dump</c> and <c>yaml.safe_load</c> (kombu's
/// yaml serializer) see them: plain scalars resolved by YAML 1.1's rules as PyYAML does, sequences and mappings, and
/// no tags beyond the standard str, int, float, bool, null, seq and map.
/// </summary>
/// <remarks>
/// The parser is driven event by event rather than through a deserializer, so that no tag can ever construct an
/// object: a <c>!!python/...</c> tag is refused by name. Plain timestamps stay strings (safe_load would build a
/// datetime, which JSON task arguments have no form for).
/// </remarks>
internal static partial class YamlBody
{
    private const int MaxDepth = 128;
    private const string StandardTag = "tag:yaml.org,2002:";

    private static readonly EmitterSettings Emitting = EmitterSettings.Default.WithBestWidth(int.MaxValue);

    /// <summary>Writes the body array <c>[args, kwargs, embed]</c> as one flow-style YAML document that safe_load reads back as the same values.</summary>
    public static byte[] Write(IReadOnlyList<JsonNode?> items)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text, Emitting);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Flow));
        foreach (var item in items)
        {
            Write(emitter, item);
        }

        emitter.Emit(new SequenceEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads a YAML body and writes it as the JSON text <c>json.dumps</c> would give for what safe_load returns.</summary>
    public static byte[] ToJson(ReadOnlyMemory<byte> body, long maxBytes)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body.Span);
        }
        catch (DecoderFallbackException ex)
        {
            throw new MessageDecodeException("body", $"is not valid UTF-8: {ex.Message}", ex);
        }

        var reader = new Reader(new Parser(new StringReader(text)), maxBytes);
        try
        {
            return reader.Document();
        }
        catch (YamlException ex)
        {
            throw new MessageDecodeException("body", $"is not valid YAML: {ex.Message}", ex);
        }
    }

    private static void Write(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case null:
                Plain(emitter, "null");
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Flow));
                foreach (var item in array)
                {
                    Write(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonObject obj:
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit: true, MappingStyle.Flow));
                foreach (var (key, value) in obj)
                {
                    Quoted(emitter, key);
                    Write(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonValue value:
                var scalar = PyScalar.From(value);
                switch (scalar.Kind)
                {
                    case PyKind.None: Plain(emitter, "null"); break;
                    case PyKind.Bool: Plain(emitter, scalar.Bool ? "true" : "false"); break;
                    case PyKind.Str: Quoted(emitter, scalar.Text!); break;
                    case PyKind.Int: Plain(emitter, scalar.Text!); break;
                    default: Plain(emitter, Float(scalar.Float)); break;
                }

                break;
        }
    }

    /// <summary>PyYAML's represent_float: repr in lower case, with <c>.0</c> put before an exponent so that YAML 1.1 reads a float.</summary>
    private static string Float(double value)
    {
        if (double.IsNaN(value)) return ".nan";
        if (double.IsInfinity(value)) return value > 0 ? ".inf" : "-.inf";
        var repr = PythonFloat.Repr(value);
        return !repr.Contains('.', StringComparison.Ordinal) && repr.IndexOf('e', StringComparison.Ordinal) is var e and >= 0
            ? repr[..e] + ".0" + repr[e..]
            : repr;
    }

    private static void Plain(IEmitter emitter, string value) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));

    // Always double-quoted: a plain "yes", "1e3" or "null" would read back in YAML 1.1 as something other than a string.
    private static void Quoted(IEmitter emitter, string value) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value, ScalarStyle.DoubleQuoted, isPlainImplicit: false, isQuotedImplicit: true));

    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:~|null|Null|NULL|)$")]
    private static partial Regex NullPattern();

    /// <summary>One scalar as safe_load constructs it.</summary>
    private readonly record struct Resolved(PyKind Kind, string Text)
    {
        /// <summary>The value as JSON text.</summary>
        public void WriteTo(PythonJsonWriter json)
        {
            if (Kind == PyKind.Str) json.String(Text);
            else json.RawAscii(Text);
        }

        /// <summary>The value as a JSON object key, as json.dumps converts a non-string key.</summary>
        public string Key => Text;
    }

    private sealed class Reader(IParser parser, long maxBytes)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);
        private readonly Dictionary<string, (int Start, int End, Resolved? Scalar)> _anchors = new(StringComparer.Ordinal);
        private PythonJsonWriter? _json;

        private PythonJsonWriter Json => _json ??= new PythonJsonWriter(_buffer);

        public byte[] Document()
        {
            Expect<StreamStart>();
            var start = Next();
            if (start is StreamEnd) throw new MessageDecodeException("body", "is an empty YAML stream");
            if (start is not DocumentStart) throw new MessageDecodeException("body", $"has an unexpected YAML event {start.GetType().Name}");
            Node(Next(), 0);
            Expect<DocumentEnd>();
            if (Next() is not StreamEnd) throw new MessageDecodeException("body", "holds more than one YAML document");
            return _buffer.WrittenSpan.ToArray();
        }

        private ParsingEvent Next() =>
            parser.MoveNext() ? parser.Current! : throw new MessageDecodeException("body", "ends inside a YAML document");

        private void Expect<T>()
            where T : ParsingEvent
        {
            var next = Next();
            if (next is not T) throw new MessageDecodeException("body", $"has the YAML event {next.GetType().Name} where {typeof(T).Name} was expected");
        }

        private void Node(ParsingEvent current, int depth)
        {
            if (depth > MaxDepth) throw new MessageDecodeException("body", $"nests deeper than {MaxDepth} levels");
            var start = _buffer.WrittenCount;
            Resolved? scalar = null;
            AnchorName anchor;
            switch (current)
            {
                case AnchorAlias alias:
                    var (from, to, anchoredScalar) = Anchored(alias.Value);
                    if (anchoredScalar is { } known)
                    {
                        known.WriteTo(Json);
                        return;
                    }

                    // Copied out first: writing may move the buffer. The limit stops an alias bomb (billion laughs).
                    var copy = _buffer.WrittenSpan[from..to].ToArray();
                    if (_buffer.WrittenCount + copy.Length > maxBytes) throw new MessageTooLargeException("body with YAML aliases expanded", _buffer.WrittenCount + copy.Length, maxBytes);
                    _buffer.Write(copy);
                    return;
                case Scalar s:
                    scalar = Resolve(s);
                    scalar.Value.WriteTo(Json);
                    anchor = s.Anchor;
                    break;
                case SequenceStart seq:
                    CheckCollectionTag(seq.Tag, "seq");
                    Json.Raw('[');
                    var count = 0;
                    for (var next = Next(); next is not SequenceEnd; next = Next())
                    {
                        if (count++ > 0) Json.Raw(", "u8);
                        Node(next, depth + 1);
                    }

                    Json.Raw(']');
                    anchor = seq.Anchor;
                    break;
                case MappingStart map:
                    CheckCollectionTag(map.Tag, "map");
                    Json.Raw('{');
                    var first = true;
                    for (var next = Next(); next is not MappingEnd; next = Next())
                    {
                        Json.Key(Key(next), ref first);
                        Node(Next(), depth + 1);
                    }

                    Json.Raw('}');
                    anchor = map.Anchor;
                    break;
                default:
                    throw new MessageDecodeException("body", $"has an unexpected YAML event {current.GetType().Name}");
            }

            if (!anchor.IsEmpty) _anchors[anchor.Value] = (start, _buffer.WrittenCount, scalar);
        }

        private (int Start, int End, Resolved? Scalar) Anchored(AnchorName name) =>
            _anchors.TryGetValue(name.Value, out var anchored)
                ? anchored
                : throw new MessageDecodeException("body", $"refers to the undefined YAML anchor '{name.Value}'");

        private string Key(ParsingEvent current)
        {
            switch (current)
            {
                case Scalar s:
                    var resolved = Resolve(s);
                    if (!s.Anchor.IsEmpty) _anchors[s.Anchor.Value] = (_buffer.WrittenCount, _buffer.WrittenCount, resolved);
                    return resolved.Key;
                case AnchorAlias alias when Anchored(alias.Value).Scalar is { } scalar:
                    return scalar.Key;
                default:
                    throw new MessageDecodeException("body", "has a YAML mapping key that is not a scalar; only scalar keys have a JSON form");
            }
        }

        private static void CheckCollectionTag(TagName tag, string kind)
        {
            if (tag.IsEmpty || tag.IsNonSpecific || tag.Value == StandardTag + kind) return;
            throw Refused(tag);
        }

        private static Resolved Resolve(Scalar scalar)
        {
            var value = scalar.Value;
            if (scalar.Tag.IsEmpty)
            {
                return scalar.Style == ScalarStyle.Plain ? Implicit(value) : new Resolved(PyKind.Str, value);
            }

            if (scalar.Tag.IsNonSpecific) return new Resolved(PyKind.Str, value);
            return scalar.Tag.Value switch
            {
                StandardTag + "str" => new Resolved(PyKind.Str, value),
                StandardTag + "int" when IntPattern().IsMatch(value) => new Resolved(PyKind.Int, Int(value)),
                StandardTag + "float" when FloatPattern().IsMatch(value) || IntPattern().IsMatch(value) => new Resolved(PyKind.Float, FloatText(value)),
                StandardTag + "bool" when BoolPattern().IsMatch(value) => Bool(value),
                StandardTag + "null" => new Resolved(PyKind.None, "null"),
                StandardTag + "int" or StandardTag + "float" or StandardTag + "bool" =>
                    throw new MessageDecodeException("body", $"has the YAML scalar '{value}' tagged {Short(scalar.Tag.Value)}, which it is not"),
                _ => throw Refused(scalar.Tag),
            };
        }

        /// <summary>PyYAML's implicit resolvers for a plain scalar, in its order of precedence.</summary>
        private static Resolved Implicit(string value)
        {
            if (NullPattern().IsMatch(value)) return new Resolved(PyKind.None, "null");
            if (BoolPattern().IsMatch(value)) return Bool(value);
            if (IntPattern().IsMatch(value)) return new Resolved(PyKind.Int, Int(value));
            if (FloatPattern().IsMatch(value)) return new Resolved(PyKind.Float, FloatText(value));
            return new Resolved(PyKind.Str, value);
        }

        private static Resolved Bool(string value) =>
            new(PyKind.Bool, value.ToLowerInvariant() is "yes" or "true" or "on" ? "true" : "false");

        /// <summary>PyYAML's construct_yaml_int: underscores dropped, 0b binary, 0x hex, a leading 0 octal, a:b:c base 60.</summary>
        private static string Int(string text)
        {
            var value = text.Replace("_", "", StringComparison.Ordinal);
            var sign = value[0] == '-' ? BigInteger.MinusOne : BigInteger.One;
            if (value[0] is '-' or '+') value = value[1..];
            BigInteger result;
            if (value == "0") result = BigInteger.Zero;
            else if (value.StartsWith("0b", StringComparison.Ordinal)) result = Digits(value[2..], 2);
            else if (value.StartsWith("0x", StringComparison.Ordinal)) result = Digits(value[2..], 16);
            else if (value[0] == '0') result = Digits(value, 8);
            else if (value.Contains(':', StringComparison.Ordinal)) result = Sexagesimal(value);
            else result = BigInteger.Parse(value, CultureInfo.InvariantCulture);
            return (sign * result).ToString(CultureInfo.InvariantCulture);
        }

        private static BigInteger Digits(string digits, int radix)
        {
            var result = BigInteger.Zero;
            foreach (var c in digits)
            {
                result = (result * radix) + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }

            return result;
        }

        private static BigInteger Sexagesimal(string value)
        {
            var result = BigInteger.Zero;
            foreach (var part in value.Split(':'))
            {
                result = (result * 60) + int.Parse(part, CultureInfo.InvariantCulture);
            }

            return result;
        }

        /// <summary>PyYAML's construct_yaml_float, then Python's repr; NaN and infinity are refused as task arguments here cannot carry them.</summary>
        private static string FloatText(string text)
        {
            var value = text.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
            var sign = value[0] == '-' ? -1.0 : 1.0;
            if (value[0] is '-' or '+') value = value[1..];
            if (value is ".inf" or ".nan") throw new MessageDecodeException("body", $"holds the float {text}, which task arguments cannot carry here");
            double result;
            if (value.Contains(':', StringComparison.Ordinal))
            {
                result = 0;
                foreach (var part in value.Split(':'))
                {
                    result = (result * 60) + double.Parse(part, NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }
            else
            {
                result = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            if (!double.IsFinite(result)) throw new MessageDecodeException("body", $"holds the float {text}, which task arguments cannot carry here");
            return PythonFloat.Repr(sign * result);
        }

        private static MessageDecodeException Refused(TagName tag) =>
            tag.Value.StartsWith(StandardTag + "python/", StringComparison.Ordinal)
                ? new MessageDecodeException("body", $"has the YAML tag {Short(tag.Value)}: Python object tags are refused, as yaml.safe_load refuses them")
                : new MessageDecodeException("body", $"has the YAML tag {Short(tag.Value)}, which is outside the safe subset accepted here (str, int, float, bool, null, seq, map)");

        private static string Short(string tag) => tag.StartsWith(StandardTag, StringComparison.Ordinal) ? "!!" + tag[StandardTag.Length..] : tag;
    }
}
