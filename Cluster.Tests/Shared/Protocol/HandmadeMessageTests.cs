using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>The hand-made messages a real Celery worker was fed: what it accepted decodes, what it refused is a typed error.</summary>
public sealed class HandmadeMessageTests
{
    private static readonly Dictionary<string, CapturedMessage> Messages = CapturedMessages.Handmade().ToDictionary(m => m.Headers.GetProperty("id").GetString()!);

    private readonly TaskMessageCodec codec = new();

    [Fact]
    public void TaskAndIdOnly_WithEmptyEmbed_Decodes()
    {
        var message = codec.Decode(Messages["e3453026-7023-40f8-83ff-c42084f79203"].Envelope);

        Assert.Equal("tasks.add", message.Task);
        Assert.Equal(2, message.Args.Count);
        Assert.Null(message.RootId);
        Assert.Null(message.ArgsRepr);
        Assert.Null(message.Priority);
        Assert.Equal(0, message.Retries);
        Assert.Equal(TimeLimits.None, message.TimeLimit);
        Assert.Equal(TaskEmbed.None, message.Embed);
        Assert.Equal("interop.test.replies", message.ReplyTo);
    }

    [Fact]
    public void KwargsOnly_Decodes()
    {
        var message = codec.Decode(Messages["26d5f701-e9a5-4f4e-bab2-8656e0648ce2"].Envelope);

        Assert.Empty(message.Args);
        Assert.Equal(1, (int)message.Kwargs["x"]!);
        Assert.Equal(2, (int)message.Kwargs["y"]!);
    }

    [Fact]
    public void EtaWithZSuffix_IsUtc()
    {
        var message = codec.Decode(Messages["09cc03b5-e367-4060-b6db-b506da0038e4"].Envelope);

        Assert.Equal(new DateTimeOffset(2026, 11, 21, 9, 42, 52, TimeSpan.Zero).AddTicks(6717650), message.Eta);
    }

    [Fact]
    public void EtaWithThreeDigitFraction_IsReadAsMicrosecondsLikeCelery()
    {
        var message = codec.Decode(Messages["724c0694-4d42-4167-a1ba-fb7638e68ca0"].Envelope);

        // The worker echoed 09:42:52.000500 for the sent .500.
        Assert.Equal("2026-11-21T09:42:52.000500+00:00", CeleryTime.Format(message.Eta!.Value));
    }

    [Fact]
    public void EtaWithSevenDigitFraction_IsRejectedNamingTheHeader()
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Messages["83ee1a8b-6861-4a35-8abf-0ecf7df226ef"].Envelope));

        Assert.Equal("header 'eta'", error.Field);
        Assert.Contains("7 fractional digits", error.Message);
    }

    [Fact]
    public void YamlContentType_IsDisallowed()
    {
        var error = Assert.Throws<ContentDisallowedException>(() => codec.Decode(Messages["5d2601aa-c810-4a5c-b967-95640cd56e01"].Envelope));

        Assert.Equal("application/x-yaml", error.ContentType);
        Assert.Contains("application/x-yaml", error.Message);
    }

    [Fact]
    public void TwoElementBody_ThatCrashedTheWorker_IsATypedError()
    {
        var error = Assert.Throws<MessageDecodeException>(() => codec.Decode(Messages["969b1fd7-dfe4-4a67-9996-78fbdacbfb01"].Envelope));

        Assert.Equal("body", error.Field);
        Assert.Equal("body must have 3 elements [args, kwargs, embed], got 2", error.Message);
    }

    [Fact]
    public void AcceptedHandmadeMessages_ReencodeWithCeleryDefaultsFilledIn()
    {
        var message = codec.Decode(Messages["17bbd633-b5af-4fda-9b72-09381053912b"].Envelope);

        var envelope = codec.Encode(message);

        Assert.Equal(TaskMessage.StandardHeaders, envelope.Headers.Keys);
        Assert.Equal(message.Id, envelope.Headers["root_id"]);
        Assert.Equal("(3, 3)", envelope.Headers["argsrepr"]);
        Assert.Equal(message.Id, envelope.Properties.CorrelationId);
    }
}
