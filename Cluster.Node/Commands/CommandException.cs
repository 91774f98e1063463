namespace ClusterQueue.Node.Commands;

/// <summary>A command cannot go on; the message names the option or input at fault and the exit code says what kind of problem it is.</summary>
public sealed class CommandException(int exitCode, string message) : Exception(message)
{
    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; } = exitCode;

    public static CommandException Usage(string message) => new(ExitCodes.Usage, message);

    public static CommandException BadData(string message) => new(ExitCodes.DataError, message);
}
