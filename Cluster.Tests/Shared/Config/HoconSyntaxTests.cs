using ClusterQueue.Config;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class HoconSyntaxTests
{
    [Fact]
    public void Comments_HashAndDoubleSlash_AreIgnored()
    {
        var root = Parse("""
            # a comment
            a = 1 # trailing
            // another comment
            b = 2 // trailing
            """);
        Assert.Equal("1", root.Scalar("a"));
        Assert.Equal("2", root.Scalar("b"));
        Assert.Equal(2, root.Count);
    }

    [Fact]
    public void Separators_EqualsColonAndNoneBeforeBrace_AllAssign()
    {
        var root = Parse("a = 1\nb : 2\nc { d = 3 }\ne = { f = 4 }\ng : { h = 5 }");
        Assert.Equal("1", root.Scalar("a"));
        Assert.Equal("2", root.Scalar("b"));
        Assert.Equal("3", root.Scalar("c.d"));
        Assert.Equal("4", root.Scalar("e.f"));
        Assert.Equal("5", root.Scalar("g.h"));
    }

    [Fact]
    public void RootBraces_AreOptional()
    {
        Assert.Equal("1", Parse("{ a = 1 }").Scalar("a"));
    }

    [Fact]
    public void CommasAndNewlines_BothSeparateFields()
    {
        var root = Parse("{ a = 1, b = 2\n c = 3, }");
        Assert.Equal(["1", "2", "3"], new[] { "a", "b", "c" }.Select(root.Scalar));
    }

    [Fact]
    public void DottedKeys_CreateNestedObjects()
    {
        var root = Parse("a.b.c = 1\na.b.d = 2\n\"x.y\".z = 3");
        Assert.Equal("1", root.Scalar("a.b.c"));
        Assert.Equal("2", root.Scalar("a.b.d"));
        Assert.Equal("3", ((HoconObject)root["x.y"]!).Scalar("z"));
    }

    [Fact]
    public void DuplicateObjects_MergeDeeply_AndLaterKeysWin()
    {
        var root = Parse("""
            a { b { c = 1, d = 2 }, e = 3 }
            a { b { d = 20 } }
            a.b.f = 4
            """);
        Assert.Equal("1", root.Scalar("a.b.c"));
        Assert.Equal("20", root.Scalar("a.b.d"));
        Assert.Equal("3", root.Scalar("a.e"));
        Assert.Equal("4", root.Scalar("a.b.f"));
    }

    [Fact]
    public void NonObjectValue_ReplacesEarlierObject_AndObjectReplacesScalar()
    {
        var root = Parse("a { b = 1 }\na = 5\nc = 1\nc { d = 2 }");
        Assert.Equal("5", root.Scalar("a"));
        Assert.Equal("2", root.Scalar("c.d"));
    }

    [Fact]
    public void Arrays_HoldScalarsObjectsAndArrays_SeparatedByCommasOrNewlines()
    {
        var root = Parse("a = [1, 2\n 3]\nb = [ { x = 1 }, [\"y\"] ]\nc = []");
        Assert.Equal(["1", "2", "3"], root.Strings("a"));
        var b = (HoconArray)root["b"]!;
        Assert.Equal("1", ((HoconObject)b.Items[0]).Scalar("x"));
        Assert.Equal("y", ((HoconScalar)((HoconArray)b.Items[1]).Items[0]).Value);
        Assert.Empty(((HoconArray)root["c"]!).Items);
    }

    [Fact]
    public void QuotedStrings_KeepSpecialCharactersAndDecodeEscapes()
    {
        var root = Parse("a = \"http://h:1/x # not a comment\"\nb = \"tab\\tquote\\\"\\u0041\"");
        Assert.Equal("http://h:1/x # not a comment", root.Scalar("a"));
        Assert.Equal("tab\tquote\"A", root.Scalar("b"));
    }

    [Fact]
    public void UnquotedStrings_StopAtCommentsAndKeepInnerSpaces()
    {
        var root = Parse("a = hello world  // comment\nb = 10 minutes");
        Assert.Equal("hello world", root.Scalar("a"));
        Assert.Equal("10 minutes", root.Scalar("b"));
    }

    [Fact]
    public void TripleQuotedStrings_SpanLinesWithoutEscapes()
    {
        var root = Parse("a = \"\"\"line \"one\"\nline \\two\"\"\"\"\nb = 1");
        Assert.Equal("line \"one\"\nline \\two\"", root.Scalar("a"));
        Assert.Equal("1", root.Scalar("b"));
    }

    [Fact]
    public void UnquotedNull_IsNull_ButQuotedNullIsText()
    {
        var root = Parse("a = null\nb = \"null\"");
        Assert.Null(root.Scalar("a"));
        Assert.Equal("null", root.Scalar("b"));
    }

    [Fact]
    public void PlusEquals_AppendsToAnArray_OrStartsOne()
    {
        var root = Parse("a = [1]\na += 2\na += 3\nb += x");
        Assert.Equal(["1", "2", "3"], root.Strings("a"));
        Assert.Equal(["x"], root.Strings("b"));
    }

    [Fact]
    public void Include_ReadsFileRelativeToTheIncludingFile_IntoTheCurrentObject()
    {
        using var dir = new TempDirectory();
        dir.Write("conf/common.conf", "x = 1\ny = ${z}");
        var main = dir.Write("conf/main.conf", "z = 2\nsection { include \"common.conf\"\n x = 10 }\nz = 3");
        var root = new HoconReader().ReadFile(main).Resolve(_ => null);
        Assert.Equal("10", root.Scalar("section.x"));
        Assert.Equal("3", root.Scalar("section.y"));
    }

    [Fact]
    public void WindowsLineEndings_AreAccepted()
    {
        var root = Parse("a = 1\r\nb = two words\r\n");
        Assert.Equal("two words", root.Scalar("b"));
    }

    [Fact]
    public void SubstitutionInIncludedFile_LooksUpBesideTheIncludeFirst_ThenAtTheRoot()
    {
        using var dir = new TempDirectory();
        dir.Write("part.conf", "near = ${x}\nfar = ${y}");
        var main = dir.Write("main.conf", "x = root-x\ny = root-y\nsection { x = local-x\n include \"part.conf\" }");
        var root = new HoconReader().ReadFile(main).Resolve(_ => null);
        Assert.Equal("local-x", root.Scalar("section.near"));
        Assert.Equal("root-y", root.Scalar("section.far"));
    }
}
