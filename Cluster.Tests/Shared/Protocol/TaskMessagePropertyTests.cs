using System.Text.Json.Nodes;
using ClusterQueue.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Protocol;

/// <summary>Generated messages survive encode then decode unchanged, with and without compression.</summary>
public sealed class TaskMessagePropertyTests
{
    private static readonly string[] Words = ["", "a", "tasks.add", "héllo", "it's", "say \"hi\"", "line\nbreak", "\\", "😀", "\u0001", "日本"];

    [Fact]
    public void EncodeThenDecode_GivesTheSameMessage()
    {
        var codec = new TaskMessageCodec();
        Check.QuickThrowOnFailure(Prop.ForAll(Messages().ToArbitrary(), message =>
        {
            var decoded = codec.Decode(codec.Encode(message));

            // DeepEquals calls 2 and 2.0 equal; the Python reprs tell an int from a float, as a Python peer would.
            return decoded.Equals(message)
                && PythonRepr.Repr(decoded.Args) == PythonRepr.Repr(message.Args)
                && PythonRepr.Repr(decoded.Kwargs) == PythonRepr.Repr(message.Kwargs);
        }));
    }

    [Fact]
    public void EncodeThenDecode_WithCompression_GivesTheSameMessage()
    {
        var zlib = new TaskMessageCodec(new TaskMessageCodecOptions { Compression = "zlib" });
        var brotli = new TaskMessageCodec(new TaskMessageCodecOptions { Compression = "brotli" });
        Check.QuickThrowOnFailure(Prop.ForAll(
            Messages().ToArbitrary(),
            message => zlib.Decode(zlib.Encode(message)).Equals(message) && brotli.Decode(brotli.Encode(message)).Equals(message)));
    }

    [Theory]
    [InlineData("msgpack", null)]
    [InlineData("yaml", null)]
    [InlineData("msgpack", "bzip2")]
    [InlineData("yaml", "zlib")]
    public void EncodeThenDecode_WithMsgpackOrYaml_GivesTheSameMessage(string serializer, string? compression)
    {
        var accept = new HashSet<string>(StringComparer.Ordinal) { BodySerializers.Json, BodySerializers.Msgpack, BodySerializers.Yaml };
        var codec = new TaskMessageCodec(new TaskMessageCodecOptions { Serializer = serializer, Compression = compression, Accept = accept });
        Check.QuickThrowOnFailure(Prop.ForAll(Messages().ToArbitrary(), message =>
        {
            var decoded = codec.Decode(codec.Encode(message));
            return decoded.Equals(message)
                && PythonRepr.Repr(decoded.Args) == PythonRepr.Repr(message.Args)
                && PythonRepr.Repr(decoded.Kwargs) == PythonRepr.Repr(message.Kwargs);
        }));
    }

    [Fact]
    public void EncodeTwice_GivesIdenticalBytes()
    {
        var codec = new TaskMessageCodec();
        Check.QuickThrowOnFailure(Prop.ForAll(Messages().ToArbitrary(), message =>
        {
            var once = codec.Encode(message);
            var twice = codec.Encode(codec.Decode(once));
            return once.Body.Span.SequenceEqual(twice.Body.Span) && once.Properties == twice.Properties;
        }));
    }

    private static Gen<string> Text() => Gen.Elements(Words).SelectMany(w => Gen.Choose(0, 3).Select(n => string.Concat(Enumerable.Repeat(w, n))));

    private static Gen<string> Id() => Gen.Fresh(Uuid.NewId);

    private static Gen<T?> OrNull<T>(Gen<T> gen)
        where T : class => Gen.Frequency((1, Gen.Constant<T?>(null)), (3, gen.Select(v => (T?)v)));

    private static Gen<JsonNode?> Scalar() => Gen.OneOf(
        Gen.Constant<JsonNode?>(null),
        Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => (JsonNode?)JsonValue.Create((long)i * 3)),
        Gen.Choose(-1_000_000, 1_000_000).Select(i => (JsonNode?)JsonValue.Create(i / 64.0)),
        Gen.Elements(1e-05, 1e16, 1.7976931348623157e308, 5e-324, -0.5, 0.1).Select(d => (JsonNode?)JsonValue.Create(d)),
        Text().Select(s => (JsonNode?)JsonValue.Create(s)));

    private static Gen<JsonNode?> Json(int depth) => depth <= 0
        ? Scalar()
        : Gen.Frequency(
            (4, Scalar()),
            (1, JsonArray(depth - 1).Select(a => (JsonNode?)a)),
            (1, JsonObject(depth - 1).Select(o => (JsonNode?)o)));

    private static Gen<JsonArray> JsonArray(int depth) =>
        Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Json(depth), n)).Select(items => new JsonArray(items));

    private static Gen<JsonObject> JsonObject(int depth) =>
        Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Text().Zip(Json(depth)), n)).Select(pairs =>
        {
            var obj = new JsonObject();
            foreach (var (key, value) in pairs) obj[key] = value;
            return obj;
        });

    /// <summary>Microsecond precision, as on the wire; a variety of offsets, which the header keeps.</summary>
    private static Gen<DateTimeOffset?> Time() => Gen.Frequency(
        (1, Gen.Constant<DateTimeOffset?>(null)),
        (3, from seconds in Gen.Choose(0, int.MaxValue)
            from microseconds in Gen.Choose(0, 999_999)
            from offsetMinutes in Gen.Elements(0, 60, -300, 330)
            select (DateTimeOffset?)new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(offsetMinutes)).AddSeconds(seconds).AddTicks(microseconds * 10L)));

    private static Gen<double?> Limit() => Gen.Frequency(
        (1, Gen.Constant<double?>(null)),
        (2, Gen.Choose(0, 100_000).Select(i => (double?)i)),
        (1, Gen.Choose(1, 100_000).Select(i => (double?)(i / 4.0))));

    private static Gen<Signature> Signature() =>
        from task in Text()
        from args in JsonArray(1)
        from kwargs in JsonObject(1)
        from options in JsonObject(1)
        from subtask in Gen.Elements<string?>(null, "chain", "group", "chord")
        from immutable in Gen.Elements(true, false)
        from extra in JsonObject(1)
        select new Signature
        {
            Task = task, Args = args, Kwargs = kwargs, Options = options, SubtaskType = subtask, Immutable = immutable,
            Extra = Without(extra, "task", "args", "kwargs", "options", "subtask_type", "immutable"),
        };

    private static Gen<IReadOnlyList<Signature>?> Signatures() =>
        OrNull(Gen.Choose(0, 2).SelectMany(n => Gen.ArrayOf(Signature(), n)).Select(a => (IReadOnlyList<Signature>)a));

    private static Gen<TaskEmbed> Embed() =>
        from callbacks in Signatures()
        from errbacks in Signatures()
        from chain in Signatures()
        from chord in OrNull(Signature())
        from extra in JsonObject(1)
        select new TaskEmbed
        {
            Callbacks = callbacks, Errbacks = errbacks, Chain = chain, Chord = chord,
            Extra = Without(extra, "callbacks", "errbacks", "chain", "chord"),
        };

    private static Gen<IReadOnlyList<KeyValuePair<string, object?>>> ExtraHeaders() =>
        Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(
            Gen.Elements<object?>("v", 7, 2.5, true, null, new List<object?> { 1, "x" }, new Dictionary<string, object?> { ["k"] = false }), n))
        .Select(values => (IReadOnlyList<KeyValuePair<string, object?>>)values.Select((v, i) => new KeyValuePair<string, object?>($"x-custom-{i}", v)).ToList());

    private static Gen<TaskMessage> Messages() =>
        from task in Text()
        from id in Id()
        from shadow in OrNull(Text())
        from eta in Time()
        from expires in Time()
        from groupId in OrNull(Id())
        from groupIndex in Gen.Elements<int?>(null, 0, 1, 7)
        from retries in Gen.Choose(0, 100)
        from hard in Limit()
        from soft in Limit()
        from parent in OrNull(Id())
        from ignore in Gen.Elements(true, false)
        from extras in ExtraHeaders()
        from priority in Gen.Elements<byte?>(null, 0, 5, 9, 255)
        from persistent in Gen.Elements(true, false)
        from args in JsonArray(3)
        from style in Gen.Elements(ArgsStyle.Tuple, ArgsStyle.List)
        from kwargs in JsonObject(3)
        from embed in Embed()
        from replyTo in Text()
        select new TaskMessage
        {
            Task = task, Id = id, Shadow = shadow, Eta = eta, Expires = expires, Group = groupId, GroupIndex = groupIndex,
            Retries = retries, TimeLimit = new TimeLimits(hard, soft), RootId = id, ParentId = parent,
            ArgsRepr = PythonRepr.Args(args, style), KwargsRepr = PythonRepr.Kwargs(kwargs), Origin = "gen1@host",
            IgnoreResult = ignore, ExtraHeaders = extras, CorrelationId = id, ReplyTo = replyTo, Priority = priority,
            DeliveryMode = persistent ? (byte)2 : (byte)1, Expiration = expires is null ? null : "1000",
            Args = args, ArgsStyle = style, Kwargs = kwargs, Embed = embed,
        };

    private static JsonObject Without(JsonObject obj, params string[] names)
    {
        foreach (var name in names) obj.Remove(name);
        return obj;
    }
}
