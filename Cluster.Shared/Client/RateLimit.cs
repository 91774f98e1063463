using System.Globalization;

namespace ClusterQueue.Client;

/// <summary>A Celery rate limit such as <c>10/s</c>, <c>100/m</c>, <c>1000/h</c> or <c>5</c> (per second), as tokens per second.</summary>
public sealed record RateLimit(double PerSecond, string Text)
{
    /// <summary>Parses Celery's rate-limit string; returns null for the strings that disable a limit (empty, "0").</summary>
    public static RateLimit? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/');
        var numberPart = slash < 0 ? trimmed : trimmed[..slash];
        var unit = slash < 0 ? "s" : trimmed[(slash + 1)..];
        if (!double.TryParse(numberPart, NumberStyles.Float, CultureInfo.InvariantCulture, out var count) || count < 0 || !double.IsFinite(count))
        {
            throw new FormatException($"invalid rate limit '{text}': expected a number followed by /s, /m or /h, such as 10/s");
        }

        var seconds = unit switch
        {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => throw new FormatException($"invalid rate limit '{text}': unknown unit '{unit}', expected s, m or h"),
        };
        return count == 0 ? null : new RateLimit(count / seconds, trimmed);
    }

    public override string ToString() => Text;
}
