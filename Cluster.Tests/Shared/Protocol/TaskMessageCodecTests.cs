using System.Text;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>What the encoder fills in, passes through and compresses, beyond the captured messages.</summary>
public sealed class TaskMessageCodecTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 9, 35, 42, TimeSpan.Zero);

    private readonly TaskMessageCodec codec = new(new TaskMessageCodecOptions { Clock = new FixedClock(Now), Origin = "gen42@node" });

    [Fact]
    public void Encode_FillsCeleryDefaults()
    {
        var envelope = codec.Encode(new TaskMessage { Task = "tasks.add", Id = "id-1", Args = [1, 2], Kwargs = new JsonObject { ["z"] = "q" } });

        Assert.Equal("py", envelope.Headers["lang"]);
        Assert.Equal("id-1", envelope.Headers["root_id"]);
        Assert.Equal("(1, 2)", envelope.Headers["argsrepr"]);
        Assert.Equal("{'z': 'q'}", envelope.Headers["kwargsrepr"]);
        Assert.Equal("gen42@node", envelope.Headers["origin"]);
        Assert.Equal(new List<object?> { null, null }, envelope.Headers["timelimit"]);
        Assert.Equal("id-1", envelope.Properties.CorrelationId);
        Assert.Equal("", envelope.Properties.ReplyTo);
        Assert.Equal((byte)0, envelope.Properties.Priority);
        Assert.Equal((byte)2, envelope.Properties.DeliveryMode);
        Assert.Equal("application/json", envelope.Properties.ContentType);
        Assert.Equal("utf-8", envelope.Properties.ContentEncoding);
        Assert.Null(envelope.Properties.Expiration);
    }

    [Theory]
    [InlineData(60.0, "60000")]
    [InlineData(599.9995, "599999")]
    [InlineData(0.0004, "0")]
    [InlineData(-5.0, "0")]
    public void Encode_SetsExpirationInMillisecondsFromExpires(double secondsAhead, string expected)
    {
        var envelope = codec.Encode(new TaskMessage { Task = "t", Id = "i", Expires = Now.AddSeconds(secondsAhead) });

        Assert.Equal(expected, envelope.Properties.Expiration);
    }

    [Fact]
    public void Encode_WritesTimeLimitsAsIntWhenWhole()
    {
        var envelope = codec.Encode(new TaskMessage { Task = "t", Id = "i", TimeLimit = new TimeLimits(30, 2.5) });

        Assert.Equal(new List<object?> { 30, 2.5 }, envelope.Headers["timelimit"]);
    }

    [Fact]
    public void ExtraHeaders_FollowTheStandardOnes_InOrder_AndSurviveARoundTrip()
    {
        var message = new TaskMessage
        {
            Task = "t",
            Id = "i",
            ExtraHeaders =
            [
                new("x-tenant", "blue"),
                new("x-attempt", 3L),
                new("x-nested", new Dictionary<string, object?> { ["a"] = new List<object?> { 1, "b", null } }),
            ],
        };

        var envelope = codec.Encode(message);
        var decoded = codec.Decode(envelope);

        Assert.Equal([.. TaskMessage.StandardHeaders, "x-tenant", "x-attempt", "x-nested"], envelope.Headers.Keys);
        Assert.IsType<int>(envelope.Headers["x-attempt"]);
        Assert.Equal(["x-tenant", "x-attempt", "x-nested"], decoded.ExtraHeaders.Select(h => h.Key));
        Assert.Equal(3, decoded.ExtraHeaders[1].Value);
    }

    [Fact]
    public void LongHeaderBeyondIntRange_StaysLong()
    {
        var envelope = codec.Encode(new TaskMessage { Task = "t", Id = "i", ExtraHeaders = [new("big", 5_000_000_000L)] });

        Assert.IsType<long>(envelope.Headers["big"]);
    }

    [Theory]
    [InlineData("zlib", "application/x-gzip")]
    [InlineData("gzip", "application/x-gzip")]
    [InlineData("application/x-gzip", "application/x-gzip")]
    [InlineData("brotli", "application/x-brotli")]
    public void Compression_WritesKombusHeaderAndRoundTrips(string name, string header)
    {
        var compressing = new TaskMessageCodec(codec.Options with { Compression = name });
        var message = new TaskMessage { Task = "t", Id = "i", Args = [new string('x', 500)], Origin = "o" };

        var envelope = compressing.Encode(message);

        Assert.Equal(header, envelope.Headers["compression"]);
        Assert.Equal("compression", envelope.Headers.Keys.Last());
        Assert.True(envelope.Body.Length < 200);
        Assert.Equal(codec.Decode(codec.Encode(message)), codec.Decode(envelope));
    }

    [Fact]
    public void ZlibBodyFromPython_Decodes()
    {
        // zlib.compress(b'[[2, 2], {}, {}]') as kombu sends it under application/x-gzip.
        var body = Convert.FromBase64String("eJyLjjbSUTCK1VGorgXhWAAkUASp");
        var envelope = new Envelope
        {
            Body = body,
            Headers = new Dictionary<string, object?> { ["task"] = "tasks.add", ["id"] = "i", ["compression"] = "application/x-gzip" },
        };

        var message = codec.Decode(envelope);

        Assert.Equal("[2,2]", message.Args.ToJsonString());
        Assert.Empty(message.ExtraHeaders);
    }

    [Fact]
    public void Body_IsWrittenAsPythonJsonDumps()
    {
        var message = new TaskMessage
        {
            Task = "t",
            Id = "i",
            Args = [1.0, 1e-5, "tab\t\"q\" é 😀", long.MaxValue, double.NaN],
            Kwargs = new JsonObject { ["k"] = new JsonArray() },
        };

        var body = Encoding.UTF8.GetString(codec.Encode(message).Body.Span);

        Assert.Equal(
            """[[1.0, 1e-05, "tab\t\"q\" \u00e9 \ud83d\ude00", 9223372036854775807, NaN], {"k": []}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]""",
            body);
    }

    [Fact]
    public void Signature_KeepsUnknownFields_AndEmbedExtrasSurvive()
    {
        const string body = """[[], {}, {"callbacks": [{"task": "tasks.log", "args": [], "kwargs": {}, "options": {}, "subtask_type": null, "immutable": true, "chord_size": 2, "later": {"x": [1]}}], "errbacks": null, "chain": null, "chord": null, "stamps": {"s": 1}}]""";
        var envelope = new Envelope { Body = Encoding.UTF8.GetBytes(body), Headers = new Dictionary<string, object?> { ["task"] = "t", ["id"] = "i" } };

        var message = codec.Decode(envelope);
        var again = Encoding.UTF8.GetString(codec.Encode(message).Body.Span);

        var callback = Assert.Single(message.Embed.Callbacks!);
        Assert.True(callback.Immutable);
        Assert.Equal(["chord_size", "later"], callback.Extra.Select(p => p.Key));
        Assert.Equal(body, again);
    }

    [Fact]
    public void ChainFollowUp_BuiltFromADecodedMessage_EncodesLikeTheWorkersRepublish()
    {
        var first = codec.Decode(CapturedMessages.CeleryClientTasks().Single(m => m.ToString() == "canvas-chain.json#91").Envelope);
        var next = first.Embed.Chain![^1];

        JsonArray args = [4, .. next.Args.Select(a => a?.DeepClone())];
        var followUp = new TaskMessage
        {
            Task = next.Task,
            Id = next.Options["task_id"]!.GetValue<string>(),
            Args = args,
            RootId = first.RootId,
            ParentId = first.Id,
            ReplyTo = next.Options["reply_to"]!.GetValue<string>(),
            Origin = "gen9447@vm",
            Embed = new TaskEmbed { Chain = [] },
        };
        var envelope = codec.Encode(followUp);

        var captured = CapturedMessages.CeleryClientTasks().Single(m => m.ToString() == "canvas-chain.json#96");
        Assert.Equal(captured.Envelope.Body.ToArray(), envelope.Body.ToArray());
        Assert.Equal("(4, 4)", envelope.Headers["argsrepr"]);
        Assert.Equal(captured.Envelope.Properties, envelope.Properties);
    }

    [Fact]
    public void Decoded_numbers_read_as_any_numeric_type_they_fit_and_keep_their_digits()
    {
        var codec = new TaskMessageCodec();
        var sent = new TaskMessage { Task = "tasks.xsum", Id = "n-1", Args = [JsonNode.Parse("[2, 2.5, 12345678901, 123456789012345678901234567890]")] };
        var numbers = codec.Decode(codec.Encode(sent)).Args[0]!.AsArray();

        Assert.Equal(2L, numbers[0]!.GetValue<long>());
        Assert.Equal(2, numbers[0]!.GetValue<int>());
        Assert.Equal(2.0, numbers[0]!.GetValue<double>());
        Assert.Equal(2.5, numbers[1]!.GetValue<double>());
        Assert.Equal(12345678901L, numbers[2]!.GetValue<long>());
        Assert.Equal("[2,2.5,12345678901,123456789012345678901234567890]", numbers.ToJsonString());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
