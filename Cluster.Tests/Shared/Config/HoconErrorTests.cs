using ClusterQueue.Config;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class HoconErrorTests
{
    [Fact]
    public void UnterminatedString_NamesItsStart()
    {
        var error = ParseError("a = 1\nb = \"open\nc = 2");
        Assert.Equal("test.conf:2:5: unterminated string: expected a closing '\"' before the end of the line", error.Message);
        Assert.Equal(("test.conf", 2, 5), (error.File, error.Line, error.Column));
    }

    [Fact]
    public void UnterminatedTripleQuotedString_NamesItsStart()
    {
        var error = ParseError("a = \"\"\"never\nclosed");
        Assert.Equal("test.conf:1:5: unterminated triple-quoted string: expected a closing '\"\"\"'", error.Message);
    }

    [Theory]
    [InlineData("a = \nb = 1", "test.conf:1:5: missing value: expected a value for key 'a' after '=' but found end of line")]
    [InlineData("x { a : }", "test.conf:1:9: missing value: expected a value for key 'x.a' after ':' but found '}'")]
    [InlineData("a = ", "test.conf:1:5: missing value: expected a value for key 'a' after '=' but found end of file")]
    [InlineData("a += ,", "test.conf:1:6: missing value: expected a value for key 'a' after '+=' but found ','")]
    public void MissingValue_NamesTheKeyAndWhatFollowed(string text, string message)
    {
        Assert.Equal(message, ParseError(text).Message);
    }

    [Fact]
    public void KeyWithoutSeparator_IsAnError()
    {
        Assert.Equal("test.conf:1:3: expected '=', ':' or '{' after key 'a' but found end of line", ParseError("a \nb = 1").Message);
    }

    [Fact]
    public void UnclosedObject_NamesWhereItOpened()
    {
        Assert.Equal("test.conf:2:7: expected '}' to close the object opened at line 1 column 3 but found end of file", ParseError("a { b = 1\n c = 2").Message);
    }

    [Fact]
    public void UnclosedArray_NamesWhereItOpened()
    {
        Assert.Equal("test.conf:2:1: expected ']' to close the array opened at line 1 column 5 but found end of file", ParseError("a = [1,\n").Message);
    }

    [Fact]
    public void ForbiddenCharacter_InUnquotedText_IsAnError()
    {
        Assert.Equal("test.conf:1:11: unexpected character '@': expected a key or value (quote strings that contain it)", ParseError("a = celery@host").Message);
    }

    [Fact]
    public void TwoValuesWithoutSeparator_AfterAnObject_IsAnError()
    {
        Assert.Equal("test.conf:1:13: expected a new line or ',' after the field but found 'b'", ParseError("a { x = 1 } b = 2").Message);
    }

    [Fact]
    public void BadEscape_IsAnError()
    {
        Assert.Equal("test.conf:1:7: bad escape '\\q': expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", ParseError("a = \"x\\q\"").Message);
    }

    [Fact]
    public void LonePlus_IsAnError()
    {
        Assert.Equal("test.conf:1:3: expected '+=' but found a lone '+'", ParseError("a + 1").Message);
    }

    [Fact]
    public void UnterminatedSubstitution_IsAnError()
    {
        Assert.Equal("test.conf:1:5: unterminated substitution: expected '}' to close '${'", ParseError("a = ${b\nc = 1").Message);
    }

    [Fact]
    public void EmptyKeyBetweenDots_IsAnError()
    {
        Assert.Equal("test.conf:1:1: bad key: expected a name between the dots", ParseError("a..b = 1").Message);
    }

    [Fact]
    public void ArrayAtRoot_IsAnError()
    {
        Assert.Equal("test.conf:1:1: expected an object at the root of the document but found an array", ParseError("[1, 2]").Message);
    }

    [Fact]
    public void IncludeOfMissingFile_NamesTheFileAndTheIncludeLine()
    {
        using var dir = new TempDirectory();
        var main = dir.Write("main.conf", "a = 1\ninclude \"nowhere.conf\"");
        var error = Assert.Throws<ConfigException>(() => new HoconReader().ReadFile(main));
        var expectedPath = Path.Combine(dir.Path, "nowhere.conf");
        Assert.Equal($"{main}:2:1: bad include \"nowhere.conf\": expected a file at {expectedPath} but there is none", error.Message);
    }

    [Fact]
    public void IncludeCycle_IsAnErrorNotAStackOverflow()
    {
        using var dir = new TempDirectory();
        var a = dir.Write("a.conf", "include \"b.conf\"");
        dir.Write("b.conf", "include \"a.conf\"");
        var error = Assert.Throws<ConfigException>(() => new HoconReader().ReadFile(a));
        Assert.Contains("bad include \"a.conf\": the file includes itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsAnErrorNamingIt()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "absent.conf");
        var error = Assert.Throws<ConfigException>(() => new HoconReader().ReadFile(path));
        Assert.Equal($"{path}:1:1: cannot read config file {path}: expected a file but there is none", error.Message);
    }

    [Fact]
    public void HostileNesting_IsAnErrorNotAStackOverflow()
    {
        var error = ParseError("a = " + new string('[', 100_000));
        Assert.Equal("test.conf:1:204: objects and arrays nest too deeply: expected at most 200 levels", error.Message);
    }
}
