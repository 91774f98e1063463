using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>argsrepr, kwargsrepr and result reprs, checked against strings computed by Celery 5.2.6's own saferepr.</summary>
public sealed class PythonReprTests
{
    private static readonly JsonElement Vectors = CapturedMessages.Document("repr-vectors.json").RootElement.Clone();

    [Theory]
    [InlineData("[2, 2]", "(2, 2)")]
    [InlineData("[3]", "(3,)")]
    [InlineData("[]", "()")]
    [InlineData("[\"h\\u00e9llo\", 1.5, null, true, [1, 2], {\"a\": 1}]", "('héllo', 1.5, None, True, [1, 2], {'a': 1})")]
    [InlineData("[1e-05, 1e16, 100.0, 0.1]", "(1e-05, 1e+16, 100.0, 0.1)")]
    [InlineData("[\"it's\"]", "('it\\'s',)")]
    [InlineData("[[[[1]]]]", "([[[...]]],)")]
    public void Args_AsTuple(string json, string expected) =>
        Assert.Equal(expected, PythonRepr.Args(JsonNode.Parse(json)!.AsArray()));

    [Fact]
    public void Args_GivenAsList_UseTheListRepr() =>
        Assert.Equal("[10, 20]", PythonRepr.Args(new JsonArray(10, 20), ArgsStyle.List));

    [Fact]
    public void Kwargs_UseDictRepr() =>
        Assert.Equal("{'y': 4}", PythonRepr.Kwargs(new JsonObject { ["y"] = 4 }));

    [Fact]
    public void SafeRepr_CapsAt1024CharactersWithAnEllipsis()
    {
        var args = new JsonArray(Enumerable.Range(0, 1000).Select(i => (JsonNode?)i).ToArray());

        var repr = PythonRepr.Args(args);

        // Celery's exact output: the number reaching the budget is cut ("226...") before ", ..." closes the tuple.
        Assert.StartsWith("(0, 1, 2, ", repr);
        Assert.EndsWith("225, 226..., ...)", repr);
        Assert.Equal(1033, repr.Length);
    }

    [Fact]
    public void SafeRepr_OfAValue_IsWhatTaskSucceededEventsCarry()
    {
        Assert.Equal("4", PythonRepr.SafeRepr(4));
        Assert.Equal("None", PythonRepr.SafeRepr(null));
        Assert.Equal("'ok'", PythonRepr.SafeRepr("ok"));
    }

    [Fact]
    public void Repr_QuotesStringsAsPythonDoes()
    {
        Assert.Equal("'plain'", PythonRepr.Repr("plain"));
        Assert.Equal("\"it's\"", PythonRepr.Repr("it's"));
        Assert.Equal("'both \\' and \"'", PythonRepr.Repr("both ' and \""));
        Assert.Equal("'a\\nb\\t\\\\'", PythonRepr.Repr("a\nb\t\\"));
        Assert.Equal("'héllo 😀'", PythonRepr.Repr("héllo 😀"));
        Assert.Equal("'\\x00\\x7f\\u200b'", PythonRepr.Repr("\0\u007f\u200b"));
    }

    [Fact]
    public void Exception_IsPythonsExceptionRepr()
    {
        Assert.Equal("ValueError('intentional failure')", PythonRepr.Exception("ValueError", ["intentional failure"]));
        Assert.Equal("CustomError('custom failure', 42)", PythonRepr.Exception("CustomError", ["custom failure", 42]));
        Assert.Equal("ExceptionWithTraceback()", PythonRepr.Exception("ExceptionWithTraceback", []));
    }

    [Fact]
    public void SafeRepr_MatchesCelerysSaferepr_OnEveryReferenceVector()
    {
        var failures = new StringBuilder();
        var count = 0;
        foreach (var vector in Vectors.GetProperty("cases").EnumerateArray())
        {
            var json = vector.GetProperty("json").GetString()!;
            var maxLength = vector.GetProperty("maxlen").GetInt32();
            var node = Decode(json);
            var actual = vector.GetProperty("style").GetString() switch
            {
                "tuple" => PythonRepr.Args(node!.AsArray(), ArgsStyle.Tuple, maxLength),
                "list" => PythonRepr.Args(node!.AsArray(), ArgsStyle.List, maxLength),
                "kwargs" => PythonRepr.Kwargs(node!.AsObject(), maxLength),
                _ => PythonRepr.SafeRepr(node, maxLength),
            };
            var expected = vector.GetProperty("saferepr").GetString();
            if (actual != expected) failures.AppendLine($"{json} (max {maxLength}):\n  expected {expected}\n  actual   {actual}");
            count++;
        }

        Assert.Equal(400, count);
        Assert.True(failures.Length == 0, failures.ToString());
    }

    [Fact]
    public void Repr_MatchesPythonsRepr_OnEveryReferenceVector()
    {
        var failures = new StringBuilder();
        foreach (var vector in Vectors.GetProperty("cases").EnumerateArray())
        {
            var json = vector.GetProperty("json").GetString()!;
            var actual = PythonRepr.Repr(Decode(json));
            var expected = vector.GetProperty("repr").GetString();
            if (actual != expected) failures.AppendLine($"{json}:\n  expected {expected}\n  actual   {actual}");
        }

        Assert.True(failures.Length == 0, failures.ToString());
    }

    [Fact]
    public void FloatRepr_MatchesPython_OnEveryReferenceVector()
    {
        var failures = new StringBuilder();
        foreach (var vector in Vectors.GetProperty("floats").EnumerateArray())
        {
            var json = vector.GetProperty("json").GetString()!;
            var actual = PythonRepr.Repr(Decode($"[{json}]")!.AsArray()[0]);
            var expected = vector.GetProperty("repr").GetString();
            if (actual != expected) failures.AppendLine($"{json}: expected {expected}, actual {actual}");
        }

        Assert.True(failures.Length == 0, failures.ToString());
    }

    /// <summary>Reads JSON the way the codec does, so ints stay ints and floats stay floats.</summary>
    private static JsonNode? Decode(string json)
    {
        var body = $"[[{json}], {{}}, {{}}]";
        var message = new TaskMessageCodec().Decode(new Envelope
        {
            Body = Encoding.UTF8.GetBytes(body),
            Headers = new Dictionary<string, object?> { ["task"] = "t", ["id"] = "i" },
        });
        var value = message.Args[0];
        message.Args.RemoveAt(0);
        return value;
    }
}
