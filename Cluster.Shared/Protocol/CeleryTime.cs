using System.Globalization;
using System.Text;

namespace ClusterQueue.Protocol;

/// <summary>The <c>eta</c> and <c>expires</c> timestamps as Celery writes and reads them.</summary>
public static class CeleryTime
{
    /// <summary>
    /// Python's <c>datetime.isoformat()</c>: <c>2026-11-21T09:35:45.586688+00:00</c>, the fraction left out when
    /// the microseconds are 0. The value keeps its own offset; ticks below a microsecond are dropped.
    /// </summary>
    public static string Format(DateTimeOffset value)
    {
        var microseconds = value.Ticks % TimeSpan.TicksPerSecond / 10;
        var sb = new StringBuilder(32);
        sb.Append(value.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        if (microseconds != 0) sb.Append('.').Append(microseconds.ToString("000000", CultureInfo.InvariantCulture));
        var offset = value.Offset;
        sb.Append(offset < TimeSpan.Zero ? '-' : '+');
        offset = offset.Duration();
        sb.Append(offset.Hours.ToString("00", CultureInfo.InvariantCulture)).Append(':').Append(offset.Minutes.ToString("00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>
    /// Reads a timestamp as Celery 5.2.6's own ISO-8601 parser does (celery.utils.iso8601), or throws a
    /// <see cref="MessageDecodeException"/> naming <paramref name="field"/>.
    /// </summary>
    /// <remarks>
    /// Accepted: <c>YYYY-MM-DD</c>, then optionally <c>T</c> or a space, <c>HH:MM</c>, <c>:SS</c>, a fraction of 1 to 6
    /// digits, and <c>Z</c> or <c>±HH:MM</c>. No offset means UTC, as the worker assumes. The fraction is read as a
    /// whole number of microseconds, so <c>.500</c> is 500 µs, not half a second: that is what a Python worker does
    /// with the same text, and agreeing with it matters more than the intuitive reading. Celery rejects a fraction
    /// above 999999 µs; this parser rejects any fraction longer than 6 digits, which covers .NET's 7-digit "o" format.
    /// Unlike Celery, text after a valid timestamp is an error rather than ignored.
    /// </remarks>
    public static DateTimeOffset Parse(string text, string field)
    {
        var p = new Cursor(text, field);
        var year = p.Digits(4, 4, "year");
        p.Expect('-', "'-' after the year");
        var month = p.Digits(1, 2, "month");
        p.Expect('-', "'-' after the month");
        var day = p.Digits(1, 2, "day");
        int hour = 0, minute = 0, second = 0, microsecond = 0;
        var offset = TimeSpan.Zero;
        if (!p.AtEnd)
        {
            if (p.Peek is not ('T' or ' ')) throw p.Error($"has '{p.Peek}' where 'T' or a space should separate date and time");
            p.Skip();
            hour = p.Digits(2, 2, "hour");
            p.Expect(':', "':' after the hour");
            minute = p.Digits(2, 2, "minute");
            if (p.TryTake(':'))
            {
                second = p.Digits(2, 2, "second");
                if (p.TryTake('.'))
                {
                    var digits = p.Digits(1, int.MaxValue, "fraction", out var count);
                    if (count > 6)
                    {
                        throw new MessageDecodeException(field, $"has {count} fractional digits in '{text}' (at most 6: Celery reads the fraction as whole microseconds)");
                    }

                    microsecond = digits;
                }
            }

            if (p.TryTake('Z'))
            {
                offset = TimeSpan.Zero;
            }
            else if (!p.AtEnd && p.Peek is '+' or '-')
            {
                var negative = p.Peek == '-';
                p.Skip();
                var offsetHours = p.Digits(2, 2, "offset hours");
                p.Expect(':', "':' in the offset");
                var offsetMinutes = p.Digits(2, 2, "offset minutes");
                offset = new TimeSpan(offsetHours, offsetMinutes, 0);
                if (negative) offset = -offset;
            }
        }

        if (!p.AtEnd) throw p.Error($"has unexpected text '{text[p.Position..]}' after the timestamp");
        try
        {
            return new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(microsecond * 10L);
        }
        catch (ArgumentException)
        {
            throw new MessageDecodeException(field, $"'{text}' is not a valid date and time");
        }
    }

    private struct Cursor(string text, string field)
    {
        private readonly string text = text;
        private readonly string field = field;

        public int Position { get; private set; }

        public readonly bool AtEnd => Position >= text.Length;

        public readonly char Peek => text[Position];

        public void Skip() => Position++;

        public bool TryTake(char c)
        {
            if (AtEnd || text[Position] != c) return false;
            Position++;
            return true;
        }

        public void Expect(char c, string what)
        {
            if (!TryTake(c)) throw Error($"needs {what}");
        }

        public int Digits(int min, int max, string what) => Digits(min, max, what, out _);

        public int Digits(int min, int max, string what, out int count)
        {
            var value = 0L;
            count = 0;
            while (!AtEnd && count < max && char.IsAsciiDigit(text[Position]))
            {
                // Past 9 digits only the count matters (a longer fraction is an error anyway).
                if (count < 9) value = value * 10 + (text[Position] - '0');
                Position++;
                count++;
            }

            if (count < min) throw Error($"needs {min} digit(s) for the {what}");
            return (int)value;
        }

        public readonly MessageDecodeException Error(string problem) =>
            new(field, $"is not an ISO-8601 timestamp: '{text}' {problem}");
    }
}
