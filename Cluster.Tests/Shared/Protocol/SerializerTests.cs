using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>json, msgpack and yaml bodies, with and without compression, against kombu's own bytes (serializer-vectors.json).</summary>
public sealed class SerializerTests
{
    private static readonly HashSet<string> All = new(StringComparer.Ordinal) { BodySerializers.Json, BodySerializers.Msgpack, BodySerializers.Yaml };

    private static readonly JsonElement Vectors = CapturedMessages.Document("serializer-vectors.json").RootElement.Clone();

    private readonly TaskMessageCodec codec = new(new TaskMessageCodecOptions { Accept = All, Origin = "gen1@test" });

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Vectors.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    public static TheoryData<string, string?> SerializerByCompression()
    {
        var data = new TheoryData<string, string?>();
        foreach (var serializer in new[] { "json", "msgpack", "yaml" })
        {
            foreach (var compression in new[] { null, "zlib", "gzip", "bzip2", "brotli" }) data.Add(serializer, compression);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SerializerByCompression))]
    public void Message_RoundTripsThroughEachSerializerAndCompression(string serializer, string? compression)
    {
        var sending = new TaskMessageCodec(codec.Options with { Serializer = serializer, Compression = compression });
        var message = new TaskMessage
        {
            Task = "tasks.echo",
            Id = "id-1",
            Args = [1, 1.0, -0.5, "yes", "null", "1e3", "é 😀", long.MaxValue, true, null, new JsonArray(1, new JsonObject { ["k"] = "v" })],
            Kwargs = new JsonObject { ["a"] = new JsonArray(), ["b"] = new JsonObject(), ["c"] = 18446744073709551615UL },
            Embed = new TaskEmbed { Callbacks = [new Signature { Task = "tasks.next", Args = [2], Options = new JsonObject { ["queue"] = "q" } }] },
        };

        var envelope = sending.Encode(message);
        var decoded = codec.Decode(envelope);

        Assert.Equal(BodySerializers.ContentTypeOf(serializer), envelope.Properties.ContentType);
        Assert.Equal(serializer == "msgpack" ? "binary" : "utf-8", envelope.Properties.ContentEncoding);
        Assert.Equal(compression is null ? null : BodyCompression.Resolve(compression), envelope.Headers.GetValueOrDefault("compression"));
        Assert.Equal(codec.Decode(codec.Encode(message)), decoded);
        Assert.Equal(Body(codec.Encode(message)), Body(codec.Encode(decoded)));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Msgpack_EncodesTheBytesPythonsMsgpackWrites(string name)
    {
        var (fromJson, vector) = Case(name);
        var sending = new TaskMessageCodec(codec.Options with { Serializer = "msgpack" });

        var envelope = sending.Encode(fromJson);

        Assert.Equal(vector.GetProperty("msgpack").GetProperty("content_type").GetString(), envelope.Properties.ContentType);
        Assert.Equal(vector.GetProperty("msgpack").GetProperty("content_encoding").GetString(), envelope.Properties.ContentEncoding);
        Assert.Equal(Convert.ToHexString(Bytes(vector, "msgpack")), Convert.ToHexString(envelope.Body.Span));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void PythonBodies_InEverySerializerAndCompression_DecodeToTheSameMessage(string name)
    {
        var (fromJson, vector) = Case(name);

        foreach (var serializer in new[] { "msgpack", "yaml" })
        {
            var envelope = Envelope(Bytes(vector, serializer), vector.GetProperty(serializer).GetProperty("content_type").GetString()!);
            Assert.Equal(fromJson, codec.Decode(envelope));
        }

        foreach (var compressed in vector.GetProperty("compressed").EnumerateObject())
        {
            var envelope = Envelope(Convert.FromBase64String(compressed.Value.GetProperty("body").GetString()!), BodySerializers.Json, compressed.Value.GetProperty("compression").GetString());
            Assert.Equal(fromJson, codec.Decode(envelope));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Yaml_WeWrite_ReadsBackAsTheSameValues(string name)
    {
        var (fromJson, _) = Case(name);
        var sending = new TaskMessageCodec(codec.Options with { Serializer = "yaml" });

        Assert.Equal(codec.Decode(codec.Encode(fromJson)), codec.Decode(sending.Encode(fromJson)));
    }

    [Fact]
    public void Yaml_Floats_AreWrittenSoThatYaml11ReadsFloats()
    {
        var sending = new TaskMessageCodec(codec.Options with { Serializer = "yaml" });

        var text = Body(sending.Encode(new TaskMessage { Task = "t", Id = "i", Args = [1e-05, 1e+16, 1.0] }));

        Assert.StartsWith("[[1.0e-05, 1.0e+16, 1.0], {}, ", text);
    }

    [Theory]
    [InlineData("[[yes, No, ~, 0x1f, 0o7, 017, 1_000, 190:20:30, 1.5e+3, .5, 'yes', 2001-12-14], {}, {}]", "[true,false,null,31,\"0o7\",15,1000,685230,1500.0,0.5,\"yes\",\"2001-12-14\"]")]
    [InlineData("[[!!str 12, !!float 3, !!int '7'], {}, {}]", "[\"12\",3.0,7]")]
    [InlineData("[[&a [1, 2], *a, &s x, *s], {}, {}]", "[[1,2],[1,2],\"x\",\"x\"]")]
    [InlineData("- [1, 2]\n- {1: a, true: b, ~: c}\n- {}\n", "[1,2]")]
    public void Yaml_PlainScalars_ResolveAsPyYamlSafeLoadDoes(string yaml, string expectedArgs)
    {
        var message = codec.Decode(Envelope(Encoding.UTF8.GetBytes(yaml), BodySerializers.Yaml));

        Assert.Equal(JsonNode.Parse(expectedArgs)!.ToJsonString(), message.Args.ToJsonString());
    }

    [Fact]
    public void Yaml_MapKeys_BecomeStringsAsJsonDumpsMakesThem()
    {
        var message = codec.Decode(Envelope("- []\n- {1: a, true: b, ~: c, 1.5: d}\n- {}\n"u8.ToArray(), BodySerializers.Yaml));

        Assert.Equal("""{"1":"a","true":"b","null":"c","1.5":"d"}""", message.Kwargs.ToJsonString());
    }

    [Theory]
    [InlineData("[[!!python/object/apply:os.system ['echo pwned']], {}, {}]", "!!python/object/apply:os.system")]
    [InlineData("!!python/tuple [[1], {}, {}]", "!!python/tuple")]
    [InlineData("[[!!binary aGk=], {}, {}]", "!!binary")]
    [InlineData("[[!custom 1], {}, {}]", "!custom")]
    public void Yaml_TagsOutsideTheSafeSubset_AreRefusedByName(string yaml, string tag)
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(Encoding.UTF8.GetBytes(yaml), BodySerializers.Yaml)));

        Assert.Equal("body", error.Field);
        Assert.Contains(tag, error.Message);
        if (tag.StartsWith("!!python", StringComparison.Ordinal)) Assert.Contains("Python object tags are refused", error.Message);
    }

    [Fact]
    public void Yaml_AliasBomb_IsStoppedByTheSizeLimit()
    {
        var small = new TaskMessageCodec(codec.Options with { MaxBodyBytes = 4096 });
        var bomb = new StringBuilder("- &a0 [x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++) bomb.Append($"- &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");

        var error = Assert.Throws<MessageTooLargeException>(() => small.Decode(Envelope(Encoding.UTF8.GetBytes(bomb.ToString()), BodySerializers.Yaml)));

        Assert.Equal(4096, error.Limit);
    }

    [Fact]
    public void Pickle_IsRefusedNamingIt_EvenWhenAccepted()
    {
        var envelope = Envelope([0x80, 0x04, 0x95], BodySerializers.Pickle);

        var error = Assert.Throws<ContentDisallowedException>(() => codec.Decode(envelope));

        Assert.Equal(BodySerializers.Pickle, error.ContentType);
        Assert.Contains("Refusing to deserialize pickle (application/x-python-serialize) content", error.Message);
        Assert.Throws<ArgumentException>(() => new TaskMessageCodec(codec.Options with { Accept = new HashSet<string> { BodySerializers.Json, BodySerializers.Pickle } }));
        var encodeError = Assert.Throws<ArgumentException>(() => new TaskMessageCodec(codec.Options with { Serializer = "pickle" }));
        Assert.Contains("pickle", encodeError.Message);
        Assert.Throws<ArgumentException>(() => codec.Encode(new TaskMessage { Task = "t", Id = "i", Serializer = "pickle" }));
    }

    [Fact]
    public void ContentTypeOutsideTheAcceptList_IsRefusedWithKombusWording()
    {
        var jsonOnly = new TaskMessageCodec(new TaskMessageCodecOptions());
        var msgpack = new TaskMessageCodec(codec.Options with { Serializer = "msgpack" }).Encode(new TaskMessage { Task = "t", Id = "i" });

        var error = Assert.Throws<ContentDisallowedException>(() => jsonOnly.Decode(msgpack));

        Assert.Equal(BodySerializers.Msgpack, error.ContentType);
        Assert.Contains("Refusing to deserialize untrusted content of type msgpack (application/x-msgpack)", error.Message);
    }

    [Theory]
    [InlineData("zlib")]
    [InlineData("bzip2")]
    [InlineData("brotli")]
    public void CorruptedCompressedBody_IsADecodeErrorNamingTheCompression(string compression)
    {
        var sending = new TaskMessageCodec(codec.Options with { Compression = compression });
        var envelope = sending.Encode(new TaskMessage { Task = "t", Id = "i", Args = [new string('x', 2000), "tail"] });
        var body = envelope.Body.ToArray();
        for (var i = 4; i < body.Length - 4; i += 3) body[i] ^= 0x5a;

        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(envelope with { Body = body }));

        Assert.Equal("body", error.Field);
        Assert.Contains("is not valid " + BodyCompression.Resolve(compression), error.Message);
    }

    [Fact]
    public void RealGzipFile_UnderKombusGzipName_IsReadBySniffingTheMagic()
    {
        var json = """[[7], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"""u8.ToArray();
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(json);

        var message = codec.Decode(Envelope(output.ToArray(), BodySerializers.Json, "application/x-gzip"));

        Assert.Equal("[7]", message.Args.ToJsonString());
    }

    [Theory]
    [InlineData("93c40268698080", "binary")]
    [InlineData("93d401688080", "extension")]
    [InlineData("93cb7ff80000000000008080", "nan")]
    [InlineData("9390", "not valid msgpack")]
    [InlineData("93908080ff", "bytes after")]
    public void Msgpack_ValuesWithoutAPlainPythonForm_AreDecodeErrors(string hex, string expected)
    {
        // [bin, {}, {}], [ext, {}, {}], [NaN, {}, {}], a truncated body and one with a byte too many.
        var bytes = Convert.FromHexString(hex);

        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(bytes, BodySerializers.Msgpack)));

        Assert.Equal("body", error.Field);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void PerMessageSerializerAndCompression_WinOverTheCodecs()
    {
        var message = new TaskMessage { Task = "t", Id = "i", Serializer = "msgpack", Compression = "bzip2" };

        var envelope = codec.Encode(message);

        Assert.Equal(BodySerializers.Msgpack, envelope.Properties.ContentType);
        Assert.Equal(BodyCompression.Bzip2, envelope.Headers["compression"]);
        Assert.Equal(codec.Decode(codec.Encode(message with { Serializer = null, Compression = null })), codec.Decode(envelope));
    }

    private static (TaskMessage FromJson, JsonElement Vector) Case(string name)
    {
        var vector = Vectors.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var fromJson = new TaskMessageCodec(new TaskMessageCodecOptions()).Decode(Envelope(Bytes(vector, "json"), BodySerializers.Json));
        return (fromJson, vector);
    }

    private static byte[] Bytes(JsonElement vector, string serializer) =>
        Convert.FromBase64String(vector.GetProperty(serializer).GetProperty("body").GetString()!);

    private static string Body(Envelope envelope) => Encoding.UTF8.GetString(envelope.Body.Span);

    private static Envelope Envelope(byte[] body, string contentType, string? compression = null)
    {
        var headers = new Dictionary<string, object?> { ["task"] = "tasks.echo", ["id"] = "0f4e0d2c-3e1a-4b8e-9a40-1c2d3e4f5a6b" };
        if (compression is not null) headers["compression"] = compression;
        return new Envelope
        {
            Body = body,
            Headers = headers,
            Properties = MessageProperties.Json with { ContentType = contentType, ContentEncoding = BodySerializers.ContentEncodingOf(contentType) },
        };
    }
}
