using System.Text;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>Malformed messages fail with a typed error that names the field; nothing is silently accepted.</summary>
public sealed class BadInputTests
{
    private const string GoodBody = """[[2, 2], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]""";

    private readonly TaskMessageCodec codec = new();

    [Theory]
    [InlineData("""[[2, 2], {}, {"callbacks": nu""")]
    [InlineData("""[[2, 2], {}""")]
    [InlineData("")]
    [InlineData("""[[2, 2], {}, {}] trailing""")]
    public void TruncatedOrInvalidJson_NamesTheBody(string body)
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(body)));

        Assert.Equal("body", error.Field);
    }

    [Theory]
    [InlineData("""[{"a": 1}, {}, {}]""", "body[0]", "body[0] must be an array (args), got object")]
    [InlineData("""["2, 2", {}, {}]""", "body[0]", "body[0] must be an array (args), got string")]
    [InlineData("""[[], [], {}]""", "body[1]", "body[1] must be an object (kwargs), got array")]
    [InlineData("""[[], null, {}]""", "body[1]", "body[1] must be an object (kwargs), got null")]
    [InlineData("""[[], {}, null]""", "body[2]", "body[2] must be an object (embed), got null")]
    [InlineData("""[[4, 4], {}]""", "body", "body must have 3 elements [args, kwargs, embed], got 2")]
    [InlineData("""[[4, 4], {}, {}, {}]""", "body", "body must have 3 elements [args, kwargs, embed], got 4")]
    [InlineData("""[]""", "body", "body must have 3 elements [args, kwargs, embed], got 0")]
    [InlineData("""{"task": "tasks.add"}""", "body", "body must be a JSON array [args, kwargs, embed], got object (protocol 1 bodies are not supported)")]
    [InlineData("""[[], {}, {"chain": {}}]""", "body[2].chain", "body[2].chain must be a list of signatures or null, got object")]
    [InlineData("""[[], {}, {"chain": ["tasks.add"]}]""", "body[2].chain[0]", "body[2].chain[0] must be an object (signature), got string")]
    [InlineData("""[[], {}, {"chord": {"args": []}}]""", "body[2].chord.task", "body[2].chord.task is missing")]
    [InlineData("""[[], {}, {"callbacks": [{"task": "t", "args": {}}]}]""", "body[2].callbacks[0].args", "body[2].callbacks[0].args must be an array, got object")]
    [InlineData("""[[], {}, {"errbacks": [{"task": "t", "immutable": "yes"}]}]""", "body[2].errbacks[0].immutable", "body[2].errbacks[0].immutable must be a boolean, got string")]
    public void WrongBodyShape_NamesTheElement(string body, string field, string message)
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(body)));

        Assert.Equal(field, error.Field);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void MissingId_NamesTheHeader()
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(GoodBody, ("task", "tasks.add"))));

        Assert.Equal("header 'id' is missing", error.Message);
    }

    [Theory]
    [InlineData("id", 42, "header 'id' must be a string, got int")]
    [InlineData("retries", "1", "header 'retries' must be an int or null, got string")]
    [InlineData("retries", 5_000_000_000L, "header 'retries' must be an int or null, got int")]
    [InlineData("ignore_result", 1, "header 'ignore_result' must be a bool or null, got int")]
    [InlineData("timelimit", "30", "header 'timelimit' must be a list [hard, soft], got string")]
    [InlineData("eta", 1795253738.5, "header 'eta' must be a string or null, got float")]
    public void WrongHeaderType_NamesTheHeaderAndBothTypes(string header, object value, string message)
    {
        var headers = new List<(string, object?)> { ("task", "tasks.add"), ("id", "abc") };
        headers.RemoveAll(h => h.Item1 == header);
        headers.Add((header, value));

        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(GoodBody, [.. headers])));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void TimelimitWithOneElement_IsRejected()
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Envelope(GoodBody, ("task", "t"), ("id", "i"), ("timelimit", new List<object?> { 30 }))));

        Assert.Equal("header 'timelimit' must have 2 elements [hard, soft], got 1", error.Message);
    }

    [Fact]
    public void SevenDigitEta_NamesTheHeader()
    {
        var error = Assert.Throws<MessageDecodeException>(() =>
            codec.Decode(Envelope(GoodBody, ("task", "t"), ("id", "i"), ("eta", "2026-11-21T09:42:52.5866880+00:00"))));

        Assert.Equal("header 'eta'", error.Field);
        Assert.StartsWith("header 'eta' has 7 fractional digits", error.Message);
    }

    [Fact]
    public void UnknownContentType_IsDisallowed()
    {
        var envelope = Envelope(GoodBody) with { Properties = MessageProperties.Json with { ContentType = "application/x-msgpack" } };

        var error = Assert.Throws<ContentDisallowedException>(() => codec.Decode(envelope));

        Assert.Equal("application/x-msgpack", error.ContentType);
        Assert.Equal("property 'content_type' is refused: Refusing to deserialize untrusted content of type msgpack (application/x-msgpack) (accept list: application/json)", error.Message);
    }

    [Fact]
    public void AcceptedContentTypeWithoutSerializer_IsATypedError()
    {
        var customCodec = new TaskMessageCodec(new TaskMessageCodecOptions { Accept = new HashSet<string> { "application/json", "application/x-custom" } });
        var envelope = Envelope(GoodBody) with { Properties = MessageProperties.Json with { ContentType = "application/x-custom" } };

        var error = Assert.Throws<MessageDecodeException>(() => customCodec.Decode(envelope));

        Assert.Equal("property 'content_type'", error.Field);
        Assert.Contains("has no serializer here", error.Message);
    }

    [Fact]
    public void NonUtf8ContentEncoding_IsATypedError()
    {
        var envelope = Envelope(GoodBody) with { Properties = MessageProperties.Json with { ContentEncoding = "latin-1" } };

        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(envelope));

        Assert.Equal("property 'content_encoding'", error.Field);
    }

    [Fact]
    public void OversizedBody_IsRefusedBeforeParsing()
    {
        var small = new TaskMessageCodec(new TaskMessageCodecOptions { MaxBodyBytes = 16 });

        // Not even valid JSON: a parse error here would mean the size was checked too late.
        var error = Assert.Throws<MessageTooLargeException>(() => small.Decode(Envelope("[[" + new string('1', 100))));

        Assert.Equal("body", error.Field);
        Assert.Equal(16, error.Limit);
        Assert.Equal(102, error.Size);
    }

    [Fact]
    public void CompressedBodyExpandingPastTheLimit_IsRefused()
    {
        var limited = new TaskMessageCodec(new TaskMessageCodecOptions { MaxBodyBytes = 4096 });
        var bomb = BodyCompression.Compress(Encoding.ASCII.GetBytes("[[\"" + new string('a', 1_000_000) + "\"], {}, {}]"), "zlib");
        Assert.True(bomb.Length < 4096);

        var error = Assert.Throws<MessageTooLargeException>(() => limited.Decode(Envelope(bomb, ("task", "t"), ("id", "i"), ("compression", "application/x-gzip"))));

        Assert.Equal("decompressed body", error.Field);
    }

    [Theory]
    [InlineData("application/x-snappy", "is not a known compression")]
    [InlineData("application/x-lzma", "is a kombu compression that is not supported here")]
    [InlineData("zstd", "is a kombu compression that is not supported here")]
    public void UnknownOrUnsupportedCompression_NamesIt(string compression, string reason)
    {
        var error = Assert.Throws<UnsupportedCompressionException>(() =>
            codec.Decode(Envelope(Encoding.ASCII.GetBytes(GoodBody), ("task", "t"), ("id", "i"), ("compression", compression))));

        Assert.Equal(compression, error.Compression);
        Assert.Equal("header 'compression'", error.Field);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void CorruptCompressedBody_IsATypedError()
    {
        var error = Assert.Throws<MessageDecodeException>(() =>
            codec.Decode(Envelope(Encoding.ASCII.GetBytes(GoodBody), ("task", "t"), ("id", "i"), ("compression", "zlib"))));

        Assert.Equal("body", error.Field);
        Assert.Contains("application/x-gzip", error.Message);
    }

    [Fact]
    public void UnknownEncodeCompression_FailsWhenTheCodecIsMade()
    {
        var error = Assert.Throws<UnsupportedCompressionException>(() => new TaskMessageCodec(new TaskMessageCodecOptions { Compression = "lz4" }));

        Assert.Equal("lz4", error.Compression);
    }

    [Fact]
    public void ExtraHeaderRepeatingAStandardName_IsRefusedWhenEncoding()
    {
        var message = new TaskMessage { Task = "t", Id = "i", ExtraHeaders = [new("retries", 3)] };

        var error = Assert.Throws<ArgumentException>(() => codec.Encode(message));

        Assert.Contains("'retries'", error.Message);
    }

    [Fact]
    public void ExtraHeaderOfATypeAmqpCannotCarry_IsRefusedWhenEncoding()
    {
        var message = new TaskMessage { Task = "t", Id = "i", ExtraHeaders = [new("when", DateTime.UnixEpoch)] };

        var error = Assert.Throws<ArgumentException>(() => codec.Encode(message));

        Assert.Contains("header 'when'", error.Message);
    }

    private static Envelope Envelope(string body, params (string Name, object? Value)[] headers) =>
        Envelope(Encoding.UTF8.GetBytes(body), headers.Length == 0 ? [("task", "tasks.add"), ("id", "0b0c")] : headers);

    private static Envelope Envelope(byte[] body, params (string Name, object? Value)[] headers)
    {
        var table = new OrderedDictionary<string, object?>();
        foreach (var (name, value) in headers) table[name] = value;
        return new Envelope { Body = body, Headers = table };
    }
}
