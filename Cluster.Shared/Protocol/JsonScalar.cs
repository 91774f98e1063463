using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>How Python's json module sees a JSON scalar: None, bool, str, int or float.</summary>
internal enum PyKind
{
    None,
    Bool,
    Str,
    Int,
    Float,
}

/// <summary>A JSON scalar classified the way Python reads it, so repr and serialization agree with a Python peer.</summary>
internal readonly record struct PyScalar(PyKind Kind, bool Bool = false, string? Text = null, double Float = 0)
{
    /// <summary>Classifies a scalar node. Integers keep their decimal text so that big ints survive.</summary>
    public static PyScalar From(JsonValue value)
    {
        // Checked first: an element-backed number would also answer TryGetValue<double>.
        if (value.TryGetValue<JsonElement>(out var e)) return FromElement(e);
        if (value.TryGetValue<long>(out var l)) return Int(l);
        if (value.TryGetValue<int>(out var i)) return Int(i);
        if (value.TryGetValue<string>(out var s)) return new PyScalar(PyKind.Str, Text: s);
        if (value.TryGetValue<bool>(out var b)) return new PyScalar(PyKind.Bool, Bool: b);
        if (value.TryGetValue<double>(out var d)) return new PyScalar(PyKind.Float, Float: d);
        if (value.TryGetValue<float>(out var f)) return new PyScalar(PyKind.Float, Float: f);
        if (value.TryGetValue<decimal>(out var m)) return new PyScalar(PyKind.Float, Float: (double)m);
        if (value.TryGetValue<BigInteger>(out var big)) return new PyScalar(PyKind.Int, Text: big.ToString(CultureInfo.InvariantCulture));

        // Any other CLR value (short, Guid, DateTime...) is whatever System.Text.Json writes for it.
        using var doc = JsonDocument.Parse(value.ToJsonString());
        return FromElement(doc.RootElement);
    }

    public static PyScalar Int(long value) => new(PyKind.Int, Text: value.ToString(CultureInfo.InvariantCulture));

    private static PyScalar FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => new PyScalar(PyKind.Str, Text: e.GetString()),
        JsonValueKind.True => new PyScalar(PyKind.Bool, Bool: true),
        JsonValueKind.False => new PyScalar(PyKind.Bool, Bool: false),
        JsonValueKind.Number => FromNumberText(e.GetRawText()),
        JsonValueKind.Null => new PyScalar(PyKind.None),
        _ => throw new ArgumentException($"a JSON value of kind {e.ValueKind} is not a scalar"),
    };

    /// <summary>Python's json reads a number with '.', 'e' or 'E' as float and anything else as an int of any size.</summary>
    public static PyScalar FromNumberText(string raw)
    {
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
        {
            return new PyScalar(PyKind.Float, Float: double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        return new PyScalar(PyKind.Int, Text: BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary>Python's float repr: the shortest round-trip digits, laid out as CPython does.</summary>
internal static class PythonFloat
{
    /// <summary><c>repr(x)</c>: <c>1.5</c>, <c>1e-05</c>, <c>1e+16</c>, <c>100.0</c>, <c>inf</c>, <c>nan</c>.</summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        var sign = value < 0 ? "-" : "";
        var (digits, decimalPoint) = ShortestDigits(Math.Abs(value));

        // CPython's float_repr_style 'short' switches to exponent form outside -4 < decpt <= 16.
        if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0) return sign + "0." + new string('0', -decimalPoint) + digits;
            if (decimalPoint >= digits.Length) return sign + digits + new string('0', decimalPoint - digits.Length) + ".0";
            return sign + digits[..decimalPoint] + "." + digits[decimalPoint..];
        }

        var exponent = decimalPoint - 1;
        var mantissa = digits.Length > 1 ? digits[..1] + "." + digits[1..] : digits;
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>What <c>json.dumps</c> writes for a float (allow_nan is on by default in Python).</summary>
    public static string Json(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "Infinity" : double.IsNegativeInfinity(value) ? "-Infinity" : Repr(value);

    /// <summary>Significant digits without leading or trailing zeros, and the decimal point position (value = 0.DIGITS × 10^decpt).</summary>
    private static (string Digits, int DecimalPoint) ShortestDigits(double positive)
    {
        // .NET's "R" is also the shortest string that round-trips, so only the layout differs from Python.
        var text = positive.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = text.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var dot = text.IndexOf('.');
        var integral = dot < 0 ? text : text[..dot];
        var digits = dot < 0 ? text : integral + text[(dot + 1)..];
        var decimalPoint = integral.Length + exponent;
        var leading = digits.Length - digits.TrimStart('0').Length;
        return (digits[leading..].TrimEnd('0'), decimalPoint - leading);
    }
}
