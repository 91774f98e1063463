using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace ClusterQueue.Node.Commands;

/// <summary>Range checks for option values that System.CommandLine's type conversion does not cover.</summary>
public static class OptionValues
{
    /// <summary>
    /// The option's one token, read as text: a validator that asked for the converted value would throw when the
    /// conversion itself failed, and that failure is already reported as a parse error.
    /// </summary>
    public static string? Single(OptionResult result) => result.Tokens is [var token] ? token.Value : null;

    /// <summary>Rejects a negative or infinite number of seconds, naming the option.</summary>
    public static void RequireSeconds(Option<double?> option) =>
        option.Validators.Add(result =>
        {
            if (Single(result) is { } text
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && (value < 0 || !double.IsFinite(value)))
            {
                result.AddError($"{option.Name} must be a number of seconds, 0 or more, got {text}");
            }
        });
}
