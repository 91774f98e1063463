using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

public sealed class ExceptionInfoTests
{
    [Fact]
    public void FromException_DotNetException_UsesTypeNameNamespaceAndMessage()
    {
        var info = ExceptionInfo.FromException(new InvalidOperationException("queue is closed"));

        Assert.Equal("""{"exc_type":"InvalidOperationException","exc_message":["queue is closed"],"exc_module":"System"}""", info.ToJson().ToJsonString());
    }

    [Fact]
    public void FromException_CeleryException_LooksLikePythonValueError()
    {
        var info = ExceptionInfo.FromException(new CeleryException("ValueError", "builtins", "intentional failure"));

        Assert.Equal("""{"exc_type":"ValueError","exc_message":["intentional failure"],"exc_module":"builtins"}""", info.ToJson().ToJsonString());
    }

    [Fact]
    public void FromException_CeleryExceptionWithSeveralArgs_KeepsTheirJsonTypes()
    {
        var info = ExceptionInfo.FromException(new CeleryException("CustomError", "tasks", "custom failure", 42, null, true));

        Assert.Equal("""["custom failure",42,null,true]""", info.ToJson()["exc_message"]!.ToJsonString());
        Assert.Equal("(custom failure, 42, None, true)", info.Message);
    }

    [Fact]
    public void CeleryException_ArgJsonCannotCarry_IsReplacedByItsText()
    {
        var info = ExceptionInfo.FromException(new CeleryException("TypeError", "builtins", new Unserializable()));

        Assert.Equal("<unserializable>", (string?)Assert.Single(info.ExcMessage));
    }

    [Fact]
    public void CeleryException_EmptyType_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new CeleryException("", "builtins"));
    }

    [Fact]
    public void FromJson_OldCeleryStringMessage_BecomesOneArg()
    {
        var info = ExceptionInfo.FromJson(JsonNode.Parse("""{"exc_type": "KeyError", "exc_message": "missing", "exc_module": "builtins"}"""), "t");

        Assert.Equal(["missing"], info.ExcMessage.Select(a => (string?)a));
        Assert.Equal("missing", info.Message);
    }

    [Fact]
    public void FromJson_NoModuleAndNoMessage_IsTolerated()
    {
        var info = ExceptionInfo.FromJson(JsonNode.Parse("""{"exc_type": "Boom"}"""), "t");

        Assert.Null(info.ExcModule);
        Assert.Empty(info.ExcMessage);
    }

    [Theory]
    [InlineData("4", "result")]
    [InlineData("""{"exc_message": ["x"]}""", "result.exc_type")]
    [InlineData("""{"exc_type": 3}""", "result.exc_type")]
    [InlineData("""{"exc_type": "E", "exc_module": ["m"]}""", "result.exc_module")]
    public void FromJson_NotAnExceptionObject_ThrowsNamingTaskAndField(string json, string field)
    {
        var error = Assert.Throws<ResultFormatException>(() => ExceptionInfo.FromJson(JsonNode.Parse(json), "t-5"));

        Assert.Equal("t-5", error.TaskId);
        Assert.Equal(field, error.Field);
    }

    // A reference cycle is something JSON cannot carry.
    private sealed class Unserializable
    {
        public Unserializable() => Self = this;

        public Unserializable Self { get; }

        public override string ToString() => "<unserializable>";
    }
}
