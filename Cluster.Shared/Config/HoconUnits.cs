using System.Globalization;

namespace ClusterQueue.Config;

/// <summary>Reads HOCON durations: <c>30s</c>, <c>500ms</c>, <c>2 minutes</c>, <c>1d</c>; a plain number is milliseconds.</summary>
public static class HoconDuration
{
    private static readonly Dictionary<string, double> TicksPerUnit = BuildUnits();

    /// <summary>Parses a duration, or throws <see cref="FormatException"/> saying what was expected.</summary>
    public static TimeSpan Parse(string text)
    {
        if (!TryParse(text, out var value))
        {
            throw new FormatException($"expected a duration such as 30s, 500ms, 2 minutes or 1d but found '{text}'");
        }

        return value;
    }

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (!HoconNumberWithUnit.TryParse(text, out var number, out var unit))
        {
            return false;
        }

        if (!TicksPerUnit.TryGetValue(unit.Length == 0 ? "ms" : unit, out var ticks))
        {
            return false;
        }

        var total = number * ticks;
        if (total < 0 || total > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(total));
        return true;
    }

    private static Dictionary<string, double> BuildUnits()
    {
        var units = new Dictionary<string, double>(StringComparer.Ordinal);
        void Add(double ticks, params string[] names)
        {
            foreach (var name in names)
            {
                units[name] = ticks;
            }
        }

        Add(0.01, "ns", "nano", "nanos", "nanosecond", "nanoseconds");
        Add(10, "us", "micro", "micros", "microsecond", "microseconds");
        Add(TimeSpan.TicksPerMillisecond, "ms", "milli", "millis", "millisecond", "milliseconds");
        Add(TimeSpan.TicksPerSecond, "s", "second", "seconds");
        Add(TimeSpan.TicksPerMinute, "m", "minute", "minutes");
        Add(TimeSpan.TicksPerHour, "h", "hour", "hours");
        Add(TimeSpan.TicksPerDay, "d", "day", "days");
        return units;
    }
}

/// <summary>A number of bytes, read from HOCON sizes such as <c>64MiB</c>, <c>1k</c> or <c>10 MB</c>.</summary>
public readonly record struct ByteSize(long Bytes)
{
    private static readonly Dictionary<string, double> BytesPerUnit = BuildUnits();

    /// <summary>Parses a size, or throws <see cref="FormatException"/> saying what was expected.</summary>
    public static ByteSize Parse(string text)
    {
        if (!TryParse(text, out var value))
        {
            throw new FormatException($"expected a size such as 512, 64KiB, 1k, 10 MB or 2GiB but found '{text}'");
        }

        return value;
    }

    public static bool TryParse(string? text, out ByteSize value)
    {
        value = default;
        if (!HoconNumberWithUnit.TryParse(text, out var number, out var unit)
            || !BytesPerUnit.TryGetValue(unit, out var factor))
        {
            return false;
        }

        var total = Math.Floor(number * factor);
        if (total < 0 || total >= long.MaxValue)
        {
            return false;
        }

        value = new ByteSize((long)total);
        return true;
    }

    public override string ToString() => Bytes.ToString(CultureInfo.InvariantCulture) + "B";

    private static Dictionary<string, double> BuildUnits()
    {
        // HOCON's table: single letters and the i forms are powers of two; kB, MB, ... are powers of ten.
        var units = new Dictionary<string, double>(StringComparer.Ordinal) { [""] = 1 };
        foreach (var name in new[] { "B", "b", "byte", "bytes" })
        {
            units[name] = 1;
        }

        string[][] binary =
        [
            ["K", "k", "Ki", "KiB", "kibibyte", "kibibytes"],
            ["M", "m", "Mi", "MiB", "mebibyte", "mebibytes"],
            ["G", "g", "Gi", "GiB", "gibibyte", "gibibytes"],
            ["T", "t", "Ti", "TiB", "tebibyte", "tebibytes"],
        ];
        string[][] decimalUnits =
        [
            ["kB", "kilobyte", "kilobytes"],
            ["MB", "megabyte", "megabytes"],
            ["GB", "gigabyte", "gigabytes"],
            ["TB", "terabyte", "terabytes"],
        ];
        for (var power = 1; power <= 4; power++)
        {
            foreach (var name in binary[power - 1])
            {
                units[name] = Math.Pow(1024, power);
            }

            foreach (var name in decimalUnits[power - 1])
            {
                units[name] = Math.Pow(1000, power);
            }
        }

        return units;
    }
}

internal static class HoconNumberWithUnit
{
    /// <summary>Splits "1.5 minutes" into 1.5 and "minutes"; the unit may be empty.</summary>
    public static bool TryParse(string? text, out double number, out string unit)
    {
        number = 0;
        unit = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var end = 0;
        while (end < trimmed.Length && (char.IsAsciiDigit(trimmed[end]) || trimmed[end] is '.' or '-' or '+'))
        {
            end++;
        }

        unit = trimmed[end..].Trim();
        return end > 0
            && double.TryParse(trimmed[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out number)
            && double.IsFinite(number);
    }
}
