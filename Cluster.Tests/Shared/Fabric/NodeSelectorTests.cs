using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Tests.Fabric;

public class NodeSelectorTests
{
    [Theory]
    [InlineData(null, null, null, true)]
    [InlineData(new[] { "celery@vm" }, null, null, true)]
    [InlineData(new[] { "celery@vm2", "celery@vm" }, null, null, true)]
    [InlineData(new[] { "celery@vm2" }, null, null, false)]
    [InlineData(new string[0], null, null, true)]
    [InlineData(null, "celery@v.*", "pcre", true)]
    [InlineData(null, "celery@v", "pcre", true)]
    [InlineData(null, "vm", "pcre", false)]
    [InlineData(null, "celery@x.*", "pcre", false)]
    [InlineData(null, "celery@*", "glob", true)]
    [InlineData(null, "celery@v?", "glob", true)]
    [InlineData(null, "celery@v", "glob", false)]
    [InlineData(null, "celery@[uv]m", "glob", true)]
    [InlineData(null, "celery@[!v]m", "glob", false)]
    [InlineData(null, "celery@x*", null, true)]
    [InlineData(new[] { "celery@vm" }, "other@*", "glob", true)]
    [InlineData(new[] { "celery@vm2" }, "celery@*", "glob", false)]
    public void Selects_DestinationDecidesAlone_ElsePatternWithMatcher_ElseEveryNode(string[]? destination, string? pattern, string? matcher, bool expected)
    {
        var request = new ControlRequest { Method = "ping", Destination = destination, Pattern = pattern, Matcher = matcher };

        Assert.Equal(expected, NodeSelector.Selects(request, "celery@vm"));
    }

    [Fact]
    public void Glob_TreatsRegexCharactersLiterally()
    {
        Assert.True(NodeSelector.Matches("a.b+c", "a.b+c", "glob"));
        Assert.False(NodeSelector.Matches("aXb+c", "a.b+c", "glob"));
    }

    [Fact]
    public void UnknownMatcher_IsATypedErrorNamingIt()
    {
        var error = Assert.Throws<FabricMessageException>(() => NodeSelector.Matches("celery@vm", "x", "regex"));

        Assert.Contains("'regex'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadPcrePattern_IsATypedErrorNamingThePattern()
    {
        var error = Assert.Throws<FabricMessageException>(() => NodeSelector.Matches("celery@vm", "celery@(", "pcre"));

        Assert.Contains("'pattern'", error.Message, StringComparison.Ordinal);
    }
}
