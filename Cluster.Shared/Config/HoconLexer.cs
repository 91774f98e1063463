using System.Globalization;
using System.Text;

namespace ClusterQueue.Config;

internal enum HoconTokenKind
{
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    Comma,
    Newline,
    Separator,
    PlusEquals,
    Whitespace,
    Unquoted,
    Quoted,
    Substitution,
    End,
}

internal sealed record HoconToken(HoconTokenKind Kind, string Text, SourcePosition Position, bool Optional = false)
{
    public string Describe() => Kind switch
    {
        HoconTokenKind.End => "end of file",
        HoconTokenKind.Newline => "end of line",
        HoconTokenKind.Whitespace => "whitespace",
        HoconTokenKind.Quoted => $"\"{Text}\"",
        _ => $"'{Text}'",
    };
}

/// <summary>Splits HOCON text into tokens; comments are dropped, whitespace is kept because it matters in concatenations.</summary>
internal sealed class HoconLexer
{
    // Characters that end an unquoted string (HOCON spec, "Unquoted strings").
    private const string Forbidden = "$\"{}[]:=,+#`^?!@*&\\";

    private readonly string _text;
    private readonly string _source;
    private int _index;
    private int _line = 1;
    private int _column = 1;

    public HoconLexer(string text, string source)
    {
        _text = text;
        _source = source;
    }

    public List<HoconToken> Tokenize()
    {
        var tokens = new List<HoconToken>();
        while (true)
        {
            var token = Next();
            tokens.Add(token);
            if (token.Kind == HoconTokenKind.End)
            {
                return tokens;
            }
        }
    }

    private SourcePosition Here => new(_source, _line, _column);

    private char Peek(int ahead = 0) => _index + ahead < _text.Length ? _text[_index + ahead] : '\0';

    private bool AtEnd => _index >= _text.Length;

    private void Advance()
    {
        if (_text[_index] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        _index++;
    }

    private static bool IsInlineWhitespace(char c) => c != '\n' && (char.IsWhiteSpace(c) || c == '\uFEFF');

    private HoconToken Next()
    {
        while (!AtEnd && (Peek() == '#' || (Peek() == '/' && Peek(1) == '/')))
        {
            while (!AtEnd && Peek() != '\n')
            {
                Advance();
            }
        }

        var start = Here;
        if (AtEnd)
        {
            return new HoconToken(HoconTokenKind.End, "", start);
        }

        var c = Peek();
        switch (c)
        {
            case '\n':
                Advance();
                return new HoconToken(HoconTokenKind.Newline, "\n", start);
            case '{':
                Advance();
                return new HoconToken(HoconTokenKind.OpenBrace, "{", start);
            case '}':
                Advance();
                return new HoconToken(HoconTokenKind.CloseBrace, "}", start);
            case '[':
                Advance();
                return new HoconToken(HoconTokenKind.OpenBracket, "[", start);
            case ']':
                Advance();
                return new HoconToken(HoconTokenKind.CloseBracket, "]", start);
            case ',':
                Advance();
                return new HoconToken(HoconTokenKind.Comma, ",", start);
            case '=':
            case ':':
                Advance();
                return new HoconToken(HoconTokenKind.Separator, c.ToString(), start);
            case '+':
                if (Peek(1) != '=')
                {
                    throw new ConfigException("expected '+=' but found a lone '+'", start);
                }

                Advance();
                Advance();
                return new HoconToken(HoconTokenKind.PlusEquals, "+=", start);
            case '"':
                return Peek(1) == '"' && Peek(2) == '"' ? ReadTripleQuoted(start) : ReadQuoted(start);
            case '$':
                return ReadSubstitution(start);
        }

        if (IsInlineWhitespace(c))
        {
            var ws = new StringBuilder();
            while (!AtEnd && IsInlineWhitespace(Peek()))
            {
                ws.Append(Peek());
                Advance();
            }

            return new HoconToken(HoconTokenKind.Whitespace, ws.ToString(), start);
        }

        if (Forbidden.Contains(c))
        {
            throw new ConfigException($"unexpected character '{c}': expected a key or value (quote strings that contain it)", start);
        }

        var text = new StringBuilder();
        while (!AtEnd)
        {
            var d = Peek();
            if (d == '\n' || IsInlineWhitespace(d) || Forbidden.Contains(d) || (d == '/' && Peek(1) == '/'))
            {
                break;
            }

            text.Append(d);
            Advance();
        }

        return new HoconToken(HoconTokenKind.Unquoted, text.ToString(), start);
    }

    private HoconToken ReadQuoted(SourcePosition start)
    {
        Advance();
        var text = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek() == '\n')
            {
                throw new ConfigException("unterminated string: expected a closing '\"' before the end of the line", start);
            }

            var c = Peek();
            if (c == '"')
            {
                Advance();
                return new HoconToken(HoconTokenKind.Quoted, text.ToString(), start);
            }

            if (c != '\\')
            {
                text.Append(c);
                Advance();
                continue;
            }

            var escapeAt = Here;
            Advance();
            var e = AtEnd ? '\0' : Peek();
            switch (e)
            {
                case '"': text.Append('"'); break;
                case '\\': text.Append('\\'); break;
                case '/': text.Append('/'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case 'u':
                    var hex = _index + 5 <= _text.Length ? _text.Substring(_index + 1, 4) : "";
                    if (!ushort.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw new ConfigException("bad escape: expected four hex digits after \\u", escapeAt);
                    }

                    text.Append((char)code);
                    for (var i = 0; i < 4; i++)
                    {
                        Advance();
                    }

                    break;
                default:
                    throw new ConfigException($"bad escape '\\{e}': expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", escapeAt);
            }

            Advance();
        }
    }

    private HoconToken ReadTripleQuoted(SourcePosition start)
    {
        Advance();
        Advance();
        Advance();
        var text = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw new ConfigException("unterminated triple-quoted string: expected a closing '\"\"\"'", start);
            }

            if (Peek() == '"' && Peek(1) == '"' && Peek(2) == '"')
            {
                // Quotes beyond the closing three belong to the string, as the HOCON spec says.
                while (Peek(3) == '"')
                {
                    text.Append('"');
                    Advance();
                }

                Advance();
                Advance();
                Advance();
                return new HoconToken(HoconTokenKind.Quoted, text.ToString(), start);
            }

            text.Append(Peek());
            Advance();
        }
    }

    private HoconToken ReadSubstitution(SourcePosition start)
    {
        if (Peek(1) != '{')
        {
            throw new ConfigException("unexpected character '$': expected '${' to start a substitution", start);
        }

        Advance();
        Advance();
        var optional = false;
        if (Peek() == '?')
        {
            optional = true;
            Advance();
        }

        var path = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek() == '\n')
            {
                throw new ConfigException("unterminated substitution: expected '}' to close '${'", start);
            }

            if (Peek() == '}')
            {
                Advance();
                break;
            }

            path.Append(Peek());
            Advance();
        }

        var trimmed = path.ToString().Trim();
        if (trimmed.Length == 0)
        {
            throw new ConfigException("empty substitution: expected a path inside '${}'", start);
        }

        return new HoconToken(HoconTokenKind.Substitution, trimmed, start, optional);
    }
}
