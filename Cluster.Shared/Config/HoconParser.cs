using System.Text;

namespace ClusterQueue.Config;

/// <summary>Parses HOCON tokens into an unresolved value tree, merging each field into the object being built.</summary>
internal sealed class HoconParser
{
    private readonly List<HoconToken> _tokens;
    private readonly string? _baseDirectory;
    private readonly HoconObject _root;
    private readonly Stack<string> _includeChain;
    private readonly IReadOnlyList<string> _includedAt;
    private int _index;
    private int _depth;

    // Deep enough for any real configuration, shallow enough that hostile input cannot exhaust the stack.
    private const int MaxDepth = 200;

    private HoconParser(List<HoconToken> tokens, string? baseDirectory, HoconObject root, Stack<string> includeChain, IReadOnlyList<string> includedAt)
    {
        _tokens = tokens;
        _includedAt = includedAt;
        _baseDirectory = baseDirectory;
        _root = root;
        _includeChain = includeChain;
    }

    /// <summary>Parses one document into <paramref name="target"/>, which sits at <paramref name="prefix"/> under <paramref name="root"/>.</summary>
    public static void ParseInto(
        string text, string source, string? baseDirectory, HoconObject root, HoconObject target,
        IReadOnlyList<string> prefix, Stack<string> includeChain, bool included = false)
    {
        var tokens = new HoconLexer(text, source).Tokenize();
        var parser = new HoconParser(tokens, baseDirectory, root, includeChain, included ? prefix : []);
        parser.ParseDocument(target, prefix);
    }

    private HoconToken Current => _tokens[_index];

    private HoconToken Take() => _tokens[_index++];

    private void SkipWhitespace()
    {
        while (Current.Kind == HoconTokenKind.Whitespace)
        {
            _index++;
        }
    }

    private void SkipBlank()
    {
        while (Current.Kind is HoconTokenKind.Whitespace or HoconTokenKind.Newline)
        {
            _index++;
        }
    }

    private void ParseDocument(HoconObject target, IReadOnlyList<string> prefix)
    {
        SkipBlank();
        if (Current.Kind == HoconTokenKind.OpenBracket)
        {
            throw new ConfigException("expected an object at the root of the document but found an array", Current.Position);
        }

        if (Current.Kind == HoconTokenKind.OpenBrace)
        {
            var open = Take();
            ParseFields(target, prefix, open);
            SkipBlank();
        }
        else
        {
            ParseFields(target, prefix, null);
        }

        if (Current.Kind != HoconTokenKind.End)
        {
            throw new ConfigException($"expected end of file but found {Current.Describe()}", Current.Position);
        }
    }

    /// <summary>Reads fields until the closing brace of <paramref name="open"/>, or until end of file when it is null.</summary>
    private void ParseFields(HoconObject target, IReadOnlyList<string> prefix, HoconToken? open)
    {
        Enter(open);
        ParseFieldsAtThisLevel(target, prefix, open);
        _depth--;
    }

    private void Enter(HoconToken? open)
    {
        if (++_depth > MaxDepth)
        {
            throw new ConfigException($"objects and arrays nest too deeply: expected at most {MaxDepth} levels", open?.Position ?? Current.Position);
        }
    }

    private void ParseFieldsAtThisLevel(HoconObject target, IReadOnlyList<string> prefix, HoconToken? open)
    {
        while (true)
        {
            SkipBlank();
            if (open is not null && Current.Kind == HoconTokenKind.CloseBrace)
            {
                _index++;
                return;
            }

            if (Current.Kind == HoconTokenKind.End)
            {
                if (open is not null)
                {
                    throw new ConfigException($"expected '}}' to close the object opened at line {open.Position.Line} column {open.Position.Column} but found end of file", Current.Position);
                }

                return;
            }

            if (IsInclude())
            {
                ParseInclude(target, prefix);
            }
            else
            {
                ParseField(target, prefix);
            }

            SkipWhitespace();
            switch (Current.Kind)
            {
                case HoconTokenKind.Newline:
                case HoconTokenKind.Comma:
                    _index++;
                    break;
                case HoconTokenKind.CloseBrace when open is not null:
                case HoconTokenKind.End:
                    break;
                default:
                    throw new ConfigException($"expected a new line or ',' after the field but found {Current.Describe()}", Current.Position);
            }
        }
    }

    private bool IsInclude() =>
        Current is { Kind: HoconTokenKind.Unquoted, Text: "include" }
        && _tokens[_index + 1].Kind == HoconTokenKind.Whitespace
        && _tokens[_index + 2].Kind == HoconTokenKind.Quoted;

    private void ParseInclude(HoconObject target, IReadOnlyList<string> prefix)
    {
        var at = Take().Position;
        _index++;
        var name = Take().Text;
        var path = Path.GetFullPath(Path.Combine(_baseDirectory ?? Directory.GetCurrentDirectory(), name));
        if (!File.Exists(path))
        {
            throw new ConfigException($"bad include \"{name}\": expected a file at {path} but there is none", at);
        }

        if (_includeChain.Contains(path))
        {
            throw new ConfigException($"bad include \"{name}\": the file includes itself through {string.Join(" -> ", _includeChain.Reverse())}", at);
        }

        _includeChain.Push(path);
        ParseInto(File.ReadAllText(path), path, Path.GetDirectoryName(path), _root, target, prefix, _includeChain, included: true);
        _includeChain.Pop();
    }

    private void ParseField(HoconObject target, IReadOnlyList<string> prefix)
    {
        var keyStart = Current.Position;
        var key = ParseKey();
        SkipWhitespace();
        var fullPath = prefix.Concat(key).ToArray();
        var parent = target;
        foreach (var step in key.Take(key.Count - 1))
        {
            if (parent[step] is not HoconObject child)
            {
                child = new HoconObject(keyStart);
                parent.Set(step, child);
            }

            parent = child;
        }

        var name = key[^1];
        var previous = parent[name];
        var separator = Current;
        if (separator.Kind == HoconTokenKind.OpenBrace)
        {
            ParseObjectField(parent, name, previous, fullPath);
            return;
        }

        if (separator.Kind is not (HoconTokenKind.Separator or HoconTokenKind.PlusEquals))
        {
            throw new ConfigException($"expected '=', ':' or '{{' after key '{HoconPath.Join(fullPath)}' but found {separator.Describe()}", separator.Position);
        }

        _index++;
        SkipWhitespace();
        if (separator.Kind == HoconTokenKind.Separator && Current.Kind == HoconTokenKind.OpenBrace)
        {
            ParseObjectField(parent, name, previous, fullPath);
            return;
        }

        var value = ParseValue(fullPath, separator);
        if (separator.Kind == HoconTokenKind.PlusEquals)
        {
            var appended = new HoconArray(value.Position, [value]);
            parent.Set(name, previous is null ? appended : new HoconConcatenation(value.Position, [previous, appended]));
            return;
        }

        var replaced = ReplaceSelfReference(value, fullPath, previous);
        if (replaced is null)
        {
            return;
        }

        parent.Set(name, previous is not null && replaced is HoconSubstitution or HoconConcatenation
            ? new HoconOverride(previous, replaced)
            : replaced);
    }

    private void ParseObjectField(HoconObject parent, string name, HoconNode? previous, string[] fullPath)
    {
        var open = Take();
        if (previous is HoconObject existing)
        {
            // Later keys win and objects merge deeply: parse straight into the object already there.
            ParseFields(existing, fullPath, open);
            return;
        }

        var fresh = new HoconObject(open.Position);
        ParseFields(fresh, fullPath, open);
        // An earlier value still to be resolved may turn out to be an object, which this one then merges over.
        parent.Set(name, previous is HoconSubstitution or HoconConcatenation or HoconOverride
            ? new HoconOverride(previous, fresh)
            : fresh);
    }

    private List<string> ParseKey()
    {
        var keys = new List<string>();
        var current = new StringBuilder();
        var hasQuoted = false;
        var start = Current.Position;
        var sawAny = false;
        while (Current.Kind is HoconTokenKind.Unquoted or HoconTokenKind.Quoted or HoconTokenKind.Whitespace)
        {
            var token = Current;
            if (token.Kind == HoconTokenKind.Whitespace)
            {
                // Whitespace inside a key is kept; whitespace before the separator is not.
                var next = _tokens[_index + 1].Kind;
                if (next is not (HoconTokenKind.Unquoted or HoconTokenKind.Quoted))
                {
                    break;
                }

                current.Append(token.Text);
            }
            else if (token.Kind == HoconTokenKind.Quoted)
            {
                current.Append(token.Text);
                hasQuoted = true;
            }
            else
            {
                foreach (var c in token.Text)
                {
                    if (c == '.')
                    {
                        AddKey();
                    }
                    else
                    {
                        current.Append(c);
                    }
                }
            }

            sawAny = true;
            _index++;
        }

        if (!sawAny)
        {
            throw new ConfigException($"expected a key but found {Current.Describe()}", Current.Position);
        }

        AddKey();
        return keys;

        void AddKey()
        {
            if (current.Length == 0 && !hasQuoted)
            {
                throw new ConfigException("bad key: expected a name between the dots", start);
            }

            keys.Add(current.ToString());
            current.Clear();
            hasQuoted = false;
        }
    }

    /// <summary>Reads adjacent values up to the end of the field: one value, or a concatenation of several.</summary>
    private HoconNode ParseValue(IReadOnlyList<string>? fieldPath, HoconToken after)
    {
        var parts = new List<HoconNode>();
        var start = Current.Position;
        HoconScalar? unquotedNull = null;
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case HoconTokenKind.OpenBrace:
                    _index++;
                    var obj = new HoconObject(token.Position);
                    ParseFields(obj, fieldPath ?? [], token);
                    parts.Add(obj);
                    continue;
                case HoconTokenKind.OpenBracket:
                    _index++;
                    parts.Add(ParseArrayBody(token));
                    continue;
                case HoconTokenKind.Quoted:
                case HoconTokenKind.Unquoted:
                    _index++;
                    var scalar = new HoconScalar(token.Position, token.Text);
                    if (token is { Kind: HoconTokenKind.Unquoted, Text: "null" })
                    {
                        unquotedNull = scalar;
                    }

                    parts.Add(scalar);
                    continue;
                case HoconTokenKind.Whitespace:
                    _index++;
                    parts.Add(new HoconScalar(token.Position, token.Text, isWhitespace: true));
                    continue;
                case HoconTokenKind.Substitution:
                    _index++;
                    parts.Add(new HoconSubstitution(token.Position, HoconPath.Split(token.Text, token.Position), token.Optional, _includedAt));
                    continue;
            }

            break;
        }

        while (parts.Count > 0 && parts[^1] is HoconScalar { IsWhitespace: true })
        {
            parts.RemoveAt(parts.Count - 1);
        }

        if (parts.Count == 0)
        {
            var what = fieldPath is null ? "an array element" : $"a value for key '{HoconPath.Join(fieldPath)}' after {after.Describe()}";
            throw new ConfigException($"missing value: expected {what} but found {Current.Describe()}", Current.Position);
        }

        if (parts.Count == 1)
        {
            // A lone unquoted null is HOCON's null; quoted "null" or null inside a concatenation stays text.
            var single = parts[0];
            return ReferenceEquals(single, unquotedNull) ? new HoconScalar(single.Position, null) : single;
        }

        return new HoconConcatenation(start, parts);
    }

    private HoconArray ParseArrayBody(HoconToken open)
    {
        Enter(open);
        var array = ParseArrayItems(open);
        _depth--;
        return array;
    }

    private HoconArray ParseArrayItems(HoconToken open)
    {
        var array = new HoconArray(open.Position);
        while (true)
        {
            SkipBlank();
            if (Current.Kind == HoconTokenKind.CloseBracket)
            {
                _index++;
                return array;
            }

            if (Current.Kind == HoconTokenKind.End)
            {
                throw new ConfigException($"expected ']' to close the array opened at line {open.Position.Line} column {open.Position.Column} but found end of file", Current.Position);
            }

            array.Items.Add(ParseValue(null, open));
            SkipWhitespace();
            switch (Current.Kind)
            {
                case HoconTokenKind.Comma:
                case HoconTokenKind.Newline:
                    _index++;
                    break;
                case HoconTokenKind.CloseBracket:
                    break;
                default:
                    throw new ConfigException($"expected ',' or ']' in the array but found {Current.Describe()}", Current.Position);
            }
        }
    }

    /// <summary>
    /// A field that refers to itself (<c>path = ${path} [x]</c>) means its earlier value, so the reference is
    /// replaced now, while that earlier value is still known. Returns null when only optional references remained.
    /// </summary>
    private static HoconNode? ReplaceSelfReference(HoconNode value, string[] fullPath, HoconNode? previous)
    {
        switch (value)
        {
            case HoconSubstitution sub when sub.Path.SequenceEqual(fullPath):
                if (previous is not null)
                {
                    return previous;
                }

                return sub.Optional
                    ? null
                    : throw new ConfigException($"unresolved substitution {sub}: expected an earlier value of {sub.DottedPath}", sub.Position);
            case HoconConcatenation concat:
                var parts = concat.Parts.Select(p => ReplaceSelfReference(p, fullPath, previous)).OfType<HoconNode>().ToList();
                return parts.Count == 0 ? null : new HoconConcatenation(concat.Position, parts);
            default:
                return value;
        }
    }
}
