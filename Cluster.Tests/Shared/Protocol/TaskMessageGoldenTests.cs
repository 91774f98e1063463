using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>Every task message captured from Celery 5.2.6 decodes, and re-encodes to the same headers, types, properties and bytes.</summary>
public sealed class TaskMessageGoldenTests
{
    private static readonly Dictionary<string, CapturedMessage> Captured = CapturedMessages.CeleryClientTasks().ToDictionary(m => m.ToString());

    /// <summary>Captures whose args were given to <c>send_task</c> as a list, hence a list repr.</summary>
    private static readonly HashSet<string> ListArgsFiles = ["task-send-task-by-name.json", "task-unknown-task-name.json"];

    private readonly TaskMessageCodec codec = new();

    public static TheoryData<string> Names() => new(Captured.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void Fixtures_HoldTheExpectedNumberOfTaskMessages() => Assert.Equal(24, Captured.Count);

    [Theory]
    [MemberData(nameof(Names))]
    public void CapturedMessage_Decodes_ToItsHeadersAndBody(string name)
    {
        var captured = Captured[name];
        var message = codec.Decode(captured.Envelope);

        var headers = captured.Headers;
        Assert.Equal(headers.GetProperty("task").GetString(), message.Task);
        Assert.Equal(headers.GetProperty("id").GetString(), message.Id);
        Assert.Equal(headers.GetProperty("root_id").GetString(), message.RootId);
        Assert.Equal(headers.GetProperty("parent_id").GetString(), message.ParentId);
        Assert.Equal(headers.GetProperty("group").GetString(), message.Group);
        Assert.Equal(headers.GetProperty("retries").GetInt32(), message.Retries);
        Assert.Equal(headers.GetProperty("argsrepr").GetString(), message.ArgsRepr);
        Assert.Equal(headers.GetProperty("ignore_result").GetBoolean(), message.IgnoreResult);
        AssertTime(headers.GetProperty("eta"), message.Eta);
        AssertTime(headers.GetProperty("expires"), message.Expires);
        Assert.Equal(captured.Envelope.Properties.ReplyTo, message.ReplyTo);
        Assert.Equal(captured.Envelope.Properties.Priority, message.Priority);

        var body = JsonNode.Parse(captured.Body.GetRawText())!.AsArray();
        Assert.True(JsonNode.DeepEquals(body[0], message.Args), $"args of {name}");
        Assert.True(JsonNode.DeepEquals(body[1], message.Kwargs), $"kwargs of {name}");
        var embed = body[2]!.AsObject();
        Assert.Equal(embed["chain"]?.AsArray().Count, message.Embed.Chain?.Count);
        Assert.Equal(embed["chord"]?["task"]?.GetValue<string>(), message.Embed.Chord?.Task);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void DecodedMessage_Reencodes_ToTheCapturedEnvelope(string name)
    {
        var captured = Captured[name];
        var envelope = codec.Encode(codec.Decode(captured.Envelope));

        Assert.Equal(
            captured.Headers.EnumerateObject().Select(p => p.Name),
            envelope.Headers.Keys);
        foreach (var header in captured.Headers.EnumerateObject())
        {
            Assert.True(
                HeaderEquals(CapturedMessages.HeaderValue(header.Value), envelope.Headers[header.Name]),
                $"header '{header.Name}' of {name}: {header.Value} vs {envelope.Headers[header.Name]}");
        }

        Assert.Equal(CapturedMessages.FixtureTags(captured.HeaderTypes), CapturedMessages.TypeTags(envelope.Headers));
        Assert.Equal(captured.Envelope.Properties, envelope.Properties);
        Assert.Equal(captured.Raw.GetProperty("body_raw_utf8").GetString(), Encoding.UTF8.GetString(envelope.Body.Span));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ArgsAndKwargsRepr_ReproduceCelerysStrings(string name)
    {
        var captured = Captured[name];

        // JSON has no tuples: chord_unlock's args hold a signature whose Python args were a tuple, and its kwargs
        // nest tuples past the depth limit, so those reprs cannot be rebuilt from the body. Python's own worker can't either.
        if (captured.Headers.GetProperty("task").GetString() == "celery.chord_unlock") return;

        var message = codec.Decode(captured.Envelope);
        var style = ListArgsFiles.Contains(captured.File) ? ArgsStyle.List : ArgsStyle.Tuple;
        Assert.Equal(captured.Headers.GetProperty("argsrepr").GetString(), PythonRepr.Args(message.Args, style));
        Assert.Equal(captured.Headers.GetProperty("kwargsrepr").GetString(), PythonRepr.Kwargs(message.Kwargs));
    }

    [Fact]
    public void FreshAddMessage_EncodesExactlyAsTheCeleryClientDid()
    {
        var captured = Captured["task-add-plain-rpc.json#16"];
        var message = new TaskMessage
        {
            Task = "tasks.add",
            Id = "512666b8-7b28-45ad-9596-971c97bfd8c3",
            Args = [2, 2],
            ReplyTo = "9926f65a-ead6-3806-b724-5ccf38b68a5f",
            Origin = "gen9612@vm",
        };

        var envelope = codec.Encode(message);

        Assert.Equal(captured.Envelope.Properties, envelope.Properties);
        Assert.Equal(captured.Envelope.Body.ToArray(), envelope.Body.ToArray());
        Assert.Equal(CapturedMessages.FixtureTags(captured.HeaderTypes), CapturedMessages.TypeTags(envelope.Headers));
        Assert.Equal("(2, 2)", envelope.Headers["argsrepr"]);
        Assert.Equal(message.Id, envelope.Headers["root_id"]);
    }

    [Fact]
    public void UnicodeAndTypesMessage_EncodesWithPythonEscapesAndRepr()
    {
        var captured = Captured["task-argsrepr-unicode-and-types.json#538"];
        var message = new TaskMessage
        {
            Task = "tasks.echo",
            Id = "2dd3ad27-5894-41db-8967-bc1214a3c2f4",
            Args = ["héllo", 1.5, null, true, new JsonArray(1, 2), new JsonObject { ["a"] = 1 }],
            Kwargs = new JsonObject { ["k"] = "v" },
            ReplyTo = "9926f65a-ead6-3806-b724-5ccf38b68a5f",
            Origin = "gen9612@vm",
        };

        var envelope = codec.Encode(message);

        Assert.Equal(captured.Raw.GetProperty("body_raw_utf8").GetString(), Encoding.UTF8.GetString(envelope.Body.Span));
        Assert.Equal("('héllo', 1.5, None, True, [1, 2], {'a': 1})", envelope.Headers["argsrepr"]);
        Assert.Equal("{'k': 'v'}", envelope.Headers["kwargsrepr"]);
    }

    private static void AssertTime(JsonElement header, DateTimeOffset? parsed)
    {
        if (header.ValueKind == JsonValueKind.Null) Assert.Null(parsed);
        else Assert.Equal(DateTimeOffset.Parse(header.GetString()!, System.Globalization.CultureInfo.InvariantCulture), parsed);
    }

    private static bool HeaderEquals(object? expected, object? actual) => (expected, actual) switch
    {
        (System.Collections.IEnumerable e, System.Collections.IEnumerable a) when expected is not string =>
            e.Cast<object?>().Zip(a.Cast<object?>()).All(p => HeaderEquals(p.First, p.Second)) && e.Cast<object?>().Count() == a.Cast<object?>().Count(),
        _ => Equals(expected, actual),
    };
}
