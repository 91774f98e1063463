using System.Globalization;

namespace ClusterQueue.Node.Beat;

/// <summary>
/// Celery's <c>crontab</c> schedule: five fields (minute, hour, day of month, month of year, day of week) with
/// <c>*</c>, lists, ranges, steps and names, day of week 0 = Sunday. As in Celery, a time is due only when every field
/// matches (classic cron ORs day of month with day of week when both are restricted; Celery does not).
/// </summary>
public sealed class Crontab
{
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    private static readonly string[] MonthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    // A crontab that names no reachable day (Feb 30) would search forever; Celery gives up too. Eight years cover
    // every leap-year and weekday combination.
    private const int SearchDays = 8 * 366;

    private Crontab(string text, bool[] minute, bool[] hour, bool[] dayOfMonth, bool[] month, bool[] dayOfWeek)
    {
        Text = text;
        Minute = minute;
        Hour = hour;
        DayOfMonth = dayOfMonth;
        Month = month;
        DayOfWeek = dayOfWeek;
    }

    /// <summary>The five fields as given.</summary>
    public string Text { get; }

    internal bool[] Minute { get; }

    internal bool[] Hour { get; }

    internal bool[] DayOfMonth { get; }

    internal bool[] Month { get; }

    internal bool[] DayOfWeek { get; }

    /// <summary>Parses <c>"minute hour day_of_month month_of_year day_of_week"</c>, as Celery's <c>crontab.from_string</c>.</summary>
    /// <exception cref="FormatException">The text is not five fields, or a field names a value out of its range.</exception>
    public static Crontab Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"a crontab has five fields (minute hour day_of_month month_of_year day_of_week), got {fields.Length} in '{text}'");
        }

        return new Crontab(
            string.Join(' ', fields),
            ParseField(fields[0], "minute", 0, 60),
            ParseField(fields[1], "hour", 0, 24),
            ParseField(fields[2], "day_of_month", 1, 31),
            ParseField(fields[3], "month_of_year", 1, 12),
            ParseField(fields[4], "day_of_week", 0, 7));
    }

    /// <summary>Whether the minute that holds <paramref name="time"/> (UTC) matches every field.</summary>
    public bool Matches(DateTime time) =>
        Minute[time.Minute] && Hour[time.Hour] && DayMatches(time);

    /// <summary>The first whole minute strictly after <paramref name="after"/> that matches, in UTC.</summary>
    /// <exception cref="InvalidOperationException">No day within eight years matches (such as February 30).</exception>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;
        var start = new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, DateTimeKind.Utc).AddMinutes(1);
        var day = start.Date;
        for (var i = 0; i < SearchDays; i++, day = day.AddDays(1))
        {
            if (!DayMatches(day))
            {
                continue;
            }

            var firstHour = day == start.Date ? start.Hour : 0;
            for (var h = firstHour; h < 24; h++)
            {
                if (!Hour[h])
                {
                    continue;
                }

                var firstMinute = day == start.Date && h == start.Hour ? start.Minute : 0;
                for (var m = firstMinute; m < 60; m++)
                {
                    if (Minute[m])
                    {
                        return new DateTimeOffset(day.AddHours(h).AddMinutes(m), TimeSpan.Zero);
                    }
                }
            }
        }

        throw new InvalidOperationException($"the crontab '{Text}' matches no day within eight years");
    }

    public override string ToString() => $"<crontab: {Text} (m/h/dM/MY/d)>";

    private bool DayMatches(DateTime day) =>
        Month[day.Month - 1] && DayOfMonth[day.Day - 1] && DayOfWeek[(int)day.DayOfWeek];

    /// <summary>One field, the way Celery's <c>crontab_parser(max, min)</c> reads it; the result is indexed from <paramref name="min"/>.</summary>
    private static bool[] ParseField(string spec, string field, int min, int count)
    {
        var result = new bool[count];
        foreach (var part in spec.Split(','))
        {
            if (part.Length == 0)
            {
                throw new FormatException($"{field} '{spec}' has an empty part");
            }

            foreach (var value in ParsePart(part, field, min, count))
            {
                result[value - min] = true;
            }
        }

        return result;
    }

    private static IEnumerable<int> ParsePart(string part, string field, int min, int count)
    {
        var slash = part.IndexOf('/', StringComparison.Ordinal);
        var rangeText = slash < 0 ? part : part[..slash];
        var step = 1;
        if (slash >= 0)
        {
            var stepText = part[(slash + 1)..];
            if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
            {
                throw new FormatException($"{field} '{part}' has a step that is not a positive number");
            }
        }

        List<int> values;
        if (rangeText == "*")
        {
            values = [.. Enumerable.Range(min, count)];
        }
        else
        {
            var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
            if (dash == 0)
            {
                throw new FormatException($"{field} '{part}': negative numbers are not supported");
            }

            var from = Number(dash < 0 ? rangeText : rangeText[..dash], field, min, count);
            if (dash < 0)
            {
                if (slash >= 0)
                {
                    // Celery refuses "5/15" too: a step filters a range.
                    throw new FormatException($"{field} '{part}': a step needs a range or *, such as */15 or 0-59/15");
                }

                values = [from];
            }
            else
            {
                var to = Number(rangeText[(dash + 1)..], field, min, count);
                // As in Celery, a range whose end is below its start wraps around the field (fri-mon, 22-2).
                values = to >= from
                    ? [.. Enumerable.Range(from, to - from + 1)]
                    : [.. Enumerable.Range(from, min + count - from), .. Enumerable.Range(min, to - min + 1)];
            }
        }

        return values.Where((_, i) => i % step == 0);
    }

    private static int Number(string text, string field, int min, int count)
    {
        int value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            value = number;
        }
        else if (field == "month_of_year" && Array.IndexOf(MonthNames, Prefix(text)) is var month and >= 0)
        {
            value = month + 1;
        }
        else if (field == "day_of_week" && Array.IndexOf(DayNames, Prefix(text)) is var day and >= 0)
        {
            value = day;
        }
        else
        {
            throw new FormatException($"{field} '{text}' is not a number{(field is "month_of_year" or "day_of_week" ? " or a name" : "")}");
        }

        var max = min + count - 1;
        if (value < min || value > max)
        {
            throw new FormatException($"{field} {value} is out of range {min}-{max}");
        }

        return value;
    }

    // Celery takes the first three letters of a name: "monday" is "mon".
    private static string Prefix(string name) => name.Length >= 3 ? name[..3].ToLowerInvariant() : name.ToLowerInvariant();
}
