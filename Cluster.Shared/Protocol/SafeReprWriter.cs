using System.Text;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>
/// A port of Celery 5.2.6's streaming <c>saferepr</c>: the value becomes a stream of tokens, each cut to the remaining
/// budget, and the stream stops with <c>, ...</c> and the closers of the containers still open.
/// </summary>
/// <remarks>
/// Lengths count code points, as Python's <c>len</c> does. The token in hand when the budget runs out is dropped,
/// even when it is a closing bracket: Celery does the same, so the reprs match character for character.
/// </remarks>
internal sealed class SafeReprWriter(int maxLength, int maxLevels)
{
    private readonly StringBuilder output = new();
    private readonly List<Frame> frames = [];
    private int budget = maxLength > 0 ? maxLength : throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must be positive");

    public string Write(JsonNode? root, bool asTuple)
    {
        frames.Add(new Frame(Single(root), Closer: null));
        var rootPending = asTuple;
        while (frames.Count > 0)
        {
            var frame = frames[^1];
            Token token;
            if (!frame.Items.MoveNext())
            {
                frames.RemoveAt(frames.Count - 1);
                if (frame.Closer is null) continue;
                token = new Token(TokenKind.Literal, frame.Closer);
            }
            else
            {
                var item = frame.Items.Current;
                token = item.Kind switch
                {
                    ItemKind.ListSeparator => new Token(TokenKind.Literal, ", "),
                    ItemKind.KeySeparator => new Token(TokenKind.Literal, ": "),
                    ItemKind.Key => new Token(TokenKind.Quoted, item.Key!),
                    _ => ValueToken(item.Value, asTupleRoot: rootPending),
                };
                rootPending = false;
            }

            if (budget <= 0)
            {
                output.Append(", ...");
                for (var i = frames.Count - 1; i >= 0; i--) output.Append(frames[i].Closer);
                break;
            }

            var text = token.Kind switch
            {
                TokenKind.Literal => token.Text,
                TokenKind.Quoted => "'" + Truncate(token.Text).Replace("'", "\\'", StringComparison.Ordinal) + "'",
                _ => Truncate(token.Text),
            };
            output.Append(text);
            budget -= CodePointLength(text);
        }

        return output.ToString();
    }

    private Token ValueToken(JsonNode? value, bool asTupleRoot)
    {
        switch (value)
        {
            case null:
                return new Token(TokenKind.Text, "None");
            case JsonValue scalar:
                var py = PyScalar.From(scalar);
                return py.Kind == PyKind.Str ? new Token(TokenKind.Quoted, py.Text!) : new Token(TokenKind.Text, PythonRepr.ScalarText(py));
            case JsonArray array:
                var (open, close) = asTupleRoot ? ("(", array.Count == 1 ? ",)" : ")") : ("[", "]");
                return Enter(open, close, ListItems(array));
            case JsonObject obj:
                return Enter("{", "}", DictItems(obj));
            default:
                throw new ArgumentException($"unsupported JSON node {value.GetType().Name}");
        }
    }

    private Token Enter(string open, string close, IEnumerable<Item> items)
    {
        // The pseudo frame around the root is not a level.
        if (frames.Count - 1 >= maxLevels) return new Token(TokenKind.Text, open + "..." + close);
        frames.Add(new Frame(items.GetEnumerator(), close));
        return new Token(TokenKind.Literal, open);
    }

    /// <summary>celery.utils.text.truncate: at or past the budget, cut to it, drop the last partial word, add '...'.</summary>
    private string Truncate(string text)
    {
        if (CodePointLength(text) < budget) return text;
        var head = CodePointPrefix(text, budget);
        var lastSpace = head.LastIndexOf(' ');
        return (lastSpace < 0 ? head : head[..lastSpace]) + "...";
    }

    private static int CodePointLength(string text)
    {
        var length = text.Length;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1])) length--;
        }

        return length;
    }

    private static string CodePointPrefix(string text, int codePoints)
    {
        var i = 0;
        for (var n = 0; n < codePoints && i < text.Length; n++)
        {
            i += i + 1 < text.Length && char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
        }

        return text[..i];
    }

    private static IEnumerator<Item> Single(JsonNode? root)
    {
        yield return new Item(ItemKind.Value, root, null);
    }

    private static IEnumerable<Item> ListItems(JsonArray array)
    {
        for (var i = 0; i < array.Count; i++)
        {
            if (i > 0) yield return new Item(ItemKind.ListSeparator, null, null);
            yield return new Item(ItemKind.Value, array[i], null);
        }
    }

    private static IEnumerable<Item> DictItems(JsonObject obj)
    {
        var first = true;
        foreach (var (key, value) in obj)
        {
            if (!first) yield return new Item(ItemKind.ListSeparator, null, null);
            first = false;
            yield return new Item(ItemKind.Key, null, key);
            yield return new Item(ItemKind.KeySeparator, null, null);
            yield return new Item(ItemKind.Value, value, null);
        }
    }

    private enum ItemKind
    {
        Value,
        Key,
        ListSeparator,
        KeySeparator,
    }

    private enum TokenKind
    {
        Literal,
        Quoted,
        Text,
    }

    private readonly record struct Item(ItemKind Kind, JsonNode? Value, string? Key);

    private readonly record struct Token(TokenKind Kind, string Text);

    private sealed record Frame(IEnumerator<Item> Items, string? Closer);
}
