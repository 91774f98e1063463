using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>How a positional-argument array was given in Python, which decides its repr: <c>(2, 2)</c> or <c>[2, 2]</c>.</summary>
public enum ArgsStyle
{
    /// <summary><c>add.delay(2, 2)</c> and <c>apply_async((2, 2))</c>: a tuple.</summary>
    Tuple,

    /// <summary><c>send_task(args=[10, 20])</c>: a list, kept as such by Celery.</summary>
    List,
}

/// <summary>Python reprs of JSON values: Celery's truncating <c>saferepr</c> (argsrepr, kwargsrepr, result) and the builtin <c>repr</c>.</summary>
public static class PythonRepr
{
    /// <summary>Celery's <c>argsrepr_maxsize</c>, <c>kwargsrepr_maxsize</c> and <c>resultrepr_maxsize</c>.</summary>
    public const int DefaultMaxLength = 1024;

    /// <summary>Celery's default nesting depth: a fourth level of containers shows as <c>[...]</c>.</summary>
    public const int DefaultMaxLevels = 3;

    /// <summary>The <c>argsrepr</c> header Celery 5.2.6 writes for these positional arguments.</summary>
    public static string Args(JsonArray args, ArgsStyle style = ArgsStyle.Tuple, int maxLength = DefaultMaxLength) =>
        new SafeReprWriter(maxLength, DefaultMaxLevels).Write(args, style == ArgsStyle.Tuple);

    /// <summary>The <c>kwargsrepr</c> header Celery 5.2.6 writes for these keyword arguments.</summary>
    public static string Kwargs(JsonObject kwargs, int maxLength = DefaultMaxLength) =>
        new SafeReprWriter(maxLength, DefaultMaxLevels).Write(kwargs, asTuple: false);

    /// <summary>
    /// Celery's <c>saferepr(value, maxLength)</c>, as in the <c>task-succeeded</c> event's <c>result</c>.
    /// </summary>
    /// <remarks>
    /// Faithful to celery/utils/saferepr.py of 5.2.6, quirks included: strings are always single-quoted and only
    /// <c>'</c> is escaped (a newline stays raw), a string or number reaching the budget is cut at its last space
    /// and gets <c>...</c>, and once the budget is spent the rest becomes <c>, ...</c> plus the open brackets' closers.
    /// </remarks>
    public static string SafeRepr(JsonNode? value, int maxLength = DefaultMaxLength) =>
        new SafeReprWriter(maxLength, DefaultMaxLevels).Write(value, asTuple: false);

    /// <summary>Python's builtin <c>repr</c>, untruncated: what <c>repr()</c> of the decoded JSON value gives.</summary>
    public static string Repr(JsonNode? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    /// <summary>Python's builtin repr of a str: single quotes unless the text holds <c>'</c> and no <c>"</c>; printable non-ASCII kept.</summary>
    public static string Repr(string text)
    {
        var sb = new StringBuilder(text.Length + 2);
        AppendStringRepr(sb, text);
        return sb.ToString();
    }

    /// <summary>Python's repr of an exception instance: <c>ValueError('intentional failure')</c>, as task-failed events carry it.</summary>
    public static string Exception(string typeName, JsonArray args)
    {
        var sb = new StringBuilder(typeName).Append('(');
        for (var i = 0; i < args.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            AppendRepr(sb, args[i]);
        }

        return sb.Append(')').ToString();
    }

    private static void AppendRepr(StringBuilder sb, JsonNode? value)
    {
        switch (value)
        {
            case null:
                sb.Append("None");
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, array[i]);
                }

                sb.Append(']');
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, item) in obj)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendStringRepr(sb, key);
                    sb.Append(": ");
                    AppendRepr(sb, item);
                }

                sb.Append('}');
                break;
            case JsonValue scalar:
                var py = PyScalar.From(scalar);
                if (py.Kind == PyKind.Str) AppendStringRepr(sb, py.Text!);
                else sb.Append(ScalarText(py));
                break;
        }
    }

    /// <summary><c>str()</c> of a non-string scalar, which is also its repr.</summary>
    internal static string ScalarText(PyScalar py) => py.Kind switch
    {
        PyKind.None => "None",
        PyKind.Bool => py.Bool ? "True" : "False",
        PyKind.Int => py.Text!,
        PyKind.Float => PythonFloat.Repr(py.Float),
        _ => throw new InvalidOperationException("strings have no bare text form"),
    };

    private static void AppendStringRepr(StringBuilder sb, string text)
    {
        var quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == quote || c == '\\')
            {
                sb.Append('\\').Append(c);
            }
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var codePoint = char.ConvertToUtf32(c, text[i + 1]);
                if (IsPrintable(codePoint)) sb.Append(c).Append(text[i + 1]);
                else sb.Append("\\U").Append(codePoint.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (char.IsSurrogate(c) || !IsPrintable(c))
            {
                sb.Append(c < 0x100 ? "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture) : "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else sb.Append(c);
        }

        sb.Append(quote);
    }

    /// <summary>Python's str.isprintable: everything but the Other and Separator categories, the space excepted.</summary>
    private static bool IsPrintable(int codePoint)
    {
        if (codePoint == ' ') return true;
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        return category is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }
}
