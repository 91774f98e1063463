namespace ClusterQueue.Config;

/// <summary>Where a piece of configuration came from: a source name (file or label), a line and a column, both 1-based.</summary>
public sealed record SourcePosition(string Source, int Line, int Column)
{
    public override string ToString() => $"{Source}:{Line}:{Column}";
}

/// <summary>A configuration that cannot be read or bound; the message names the place and what was expected.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string problem, SourcePosition? position = null, string? key = null)
        : base(position is null ? problem : $"{position}: {problem}")
    {
        Problem = problem;
        Position = position;
        Key = key;
    }

    /// <summary>The problem without the position prefix.</summary>
    public string Problem { get; }

    public SourcePosition? Position { get; }

    public string? File => Position?.Source;

    public int? Line => Position?.Line;

    public int? Column => Position?.Column;

    /// <summary>The full HOCON path of the setting at fault, when the error is about one setting.</summary>
    public string? Key { get; }
}
