using ClusterQueue.Config;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class HoconSubstitutionTests
{
    [Fact]
    public void PathSubstitution_TakesTheFinalValue_EvenWhenDefinedLater()
    {
        var root = Parse("a = ${b.c}\nb.c = 1\nb.c = 2");
        Assert.Equal("2", root.Scalar("a"));
    }

    [Fact]
    public void ObjectSubstitution_CopiesTheObject_AndMergesWithALiteral()
    {
        var root = Parse("base { x = 1, y = 2 }\nderived = ${base} { y = 20 }");
        Assert.Equal("1", root.Scalar("derived.x"));
        Assert.Equal("20", root.Scalar("derived.y"));
        Assert.Equal("2", root.Scalar("base.y"));
    }

    [Fact]
    public void StringConcatenation_KeepsInnerWhitespace()
    {
        var root = Parse("host = example\nurl = \"amqp://\"${host}\":5672\"\ngreeting = ${host} is   here");
        Assert.Equal("amqp://example:5672", root.Scalar("url"));
        Assert.Equal("example is   here", root.Scalar("greeting"));
    }

    [Fact]
    public void ArrayConcatenation_JoinsArrays()
    {
        var root = Parse("a = [1]\nb = ${a} [2, 3]");
        Assert.Equal(["1", "2", "3"], root.Strings("b"));
    }

    [Fact]
    public void SelfReference_MeansTheEarlierValue()
    {
        var root = Parse("path = \"/bin\"\npath = ${path}\":/usr/bin\"\nlist = [a]\nlist = ${list} [b]");
        Assert.Equal("/bin:/usr/bin", root.Scalar("path"));
        Assert.Equal(["a", "b"], root.Strings("list"));
    }

    [Fact]
    public void RequiredSubstitution_FallsBackToTheEnvironment()
    {
        var root = Parse("home = ${HOME_DIR}", ("HOME_DIR", "/home/q"));
        Assert.Equal("/home/q", root.Scalar("home"));
    }

    [Fact]
    public void OptionalSubstitution_WhenSet_Overrides()
    {
        var root = Parse("url = \"sqlite:///a.db\"\nurl = ${?BROKER_URL}", ("BROKER_URL", "amqp://x"));
        Assert.Equal("amqp://x", root.Scalar("url"));
    }

    [Fact]
    public void OptionalSubstitution_WhenUnset_KeepsTheEarlierValue()
    {
        var root = Parse("url = \"sqlite:///a.db\"\nurl = ${?BROKER_URL}");
        Assert.Equal("sqlite:///a.db", root.Scalar("url"));
    }

    [Fact]
    public void OptionalSubstitution_WhenUnset_WithoutEarlierValue_Vanishes()
    {
        var root = Parse("a = ${?NOPE}\nb = [1, ${?NOPE}, 2]\nc = ${?NOPE} tail");
        Assert.Null(root["a"]);
        Assert.Equal(["1", "2"], root.Strings("b"));
        Assert.Equal("tail", root.Scalar("c"));
    }

    [Fact]
    public void UnresolvedSubstitution_IsAnErrorNamingThePathAndPosition()
    {
        var error = ParseError("a = 1\nb = ${missing.key}");
        Assert.Equal("test.conf:2:5: unresolved substitution ${missing.key}: expected a setting missing.key or an environment variable of that name", error.Message);
        Assert.Equal(2, error.Line);
        Assert.Equal(5, error.Column);
    }

    [Fact]
    public void SubstitutionCycle_IsAnErrorNamingTheChain()
    {
        var error = ParseError("a = ${b}\nb = ${c}\nc = ${a}");
        Assert.StartsWith("test.conf:", error.Message, StringComparison.Ordinal);
        Assert.Contains("substitution cycle: ${b} -> ${c} -> ${a} -> ${b} refers back to itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SelfCycle_WithoutEarlierValue_IsAnError()
    {
        var error = ParseError("a = ${a}");
        Assert.Equal("test.conf:1:5: unresolved substitution ${a}: expected an earlier value of a", error.Message);
    }

    [Fact]
    public void ObjectConcatenatedWithString_IsAnError()
    {
        var error = ParseError("a { x = 1 }\nb = ${a} text");
        Assert.Equal("test.conf:2:5: cannot concatenate an object with a string: expected values of one kind", error.Message);
    }

    [Fact]
    public void DuplicateKey_SetToAnObjectSubstitution_MergesWithTheEarlierObject()
    {
        var root = Parse("defaults { a = 1, b = 2 }\nnode { a = 10, c = 3 }\nnode = ${defaults}");
        Assert.Equal("1", root.Scalar("node.a"));
        Assert.Equal("2", root.Scalar("node.b"));
        Assert.Equal("3", root.Scalar("node.c"));
    }

    [Fact]
    public void DuplicateKey_SetToAScalarSubstitution_ReplacesTheEarlierObject()
    {
        var root = Parse("node { a = 10 }\nname = x\nnode = ${name}");
        Assert.Equal("x", root.Scalar("node"));
    }

    [Fact]
    public void ObjectAfterASubstitution_MergesOverItWhenItIsAnObject_AndReplacesItOtherwise()
    {
        var root = Parse("defaults { a = 1, b = 2 }\nnode = ${defaults}\nnode { b = 20 }\nname = x\nlabel = ${name} y\nlabel { z = 1 }");
        Assert.Equal("1", root.Scalar("node.a"));
        Assert.Equal("20", root.Scalar("node.b"));
        Assert.Equal("1", root.Scalar("label.z"));
        Assert.Equal("2", root.Scalar("defaults.b"));
    }
}
