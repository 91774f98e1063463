using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>Celery's <c>--loglevel</c> names, mapped to <see cref="LogLevel"/>.</summary>
public static class LogLevels
{
    private static readonly Dictionary<string, LogLevel> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["debug"] = LogLevel.Debug,
        ["info"] = LogLevel.Information,
        ["warning"] = LogLevel.Warning,
        ["warn"] = LogLevel.Warning,
        ["error"] = LogLevel.Error,
        ["critical"] = LogLevel.Critical,
        ["fatal"] = LogLevel.Critical,
    };

    /// <summary>A <c>--loglevel/-l</c> option that rejects any other name at parse time, listing the accepted ones.</summary>
    public static Option<string> CreateOption()
    {
        var option = new Option<string>("--loglevel", "-l")
        {
            Description = "Logging level: debug, info, warning, error or critical.",
            DefaultValueFactory = _ => "info",
        };
        option.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && !Names.ContainsKey(text))
            {
                result.AddError($"--loglevel '{text}' is not a level; use debug, info, warning, error or critical");
            }
        });
        return option;
    }

    public static LogLevel Parse(string name) => Names[name];
}
