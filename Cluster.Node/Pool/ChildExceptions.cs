using ClusterQueue.Results;

namespace ClusterQueue.Node.Pool;

/// <summary>
/// A task method threw in a child process. The exception itself stays there; what crosses is Celery's description of
/// it, the child's traceback, and the names of its type and base types, so <c>autoretry_for</c> still matches.
/// </summary>
internal sealed class ChildTaskException(ExceptionInfo info, string? traceback, IReadOnlyList<string> typeNames)
    : Exception(info.Message)
{
    public ExceptionInfo Info { get; } = info;

    public string? Traceback { get; } = traceback;

    /// <summary>Full names of the thrown type and its base types, most derived first.</summary>
    public IReadOnlyList<string> TypeNames { get; } = typeNames;

    public bool IsInstanceOf(Type type) => TypeNames.Contains(type.FullName);

    public override string ToString() => Traceback ?? $"{Info.ExcType}: {Info.Message}";
}

/// <summary>
/// The child process running a task died before it answered: Celery's <c>WorkerLostError</c>, with its message
/// (<c>Worker exited prematurely: signal 9 (SIGKILL) Job: 3.</c>).
/// </summary>
internal sealed class WorkerLostException(string message, bool accepted) : Exception(message)
{
    /// <summary>False when the child died before it took the task: the task never started, so it may run elsewhere.</summary>
    public bool Accepted { get; } = accepted;

    public ExceptionInfo Info => new("WorkerLostError", [System.Text.Json.Nodes.JsonValue.Create(Message)], "billiard.exceptions");

    /// <summary>Celery's wording for how a child ended; .NET reports a signal as 128 + its number.</summary>
    public static WorkerLostException Exited(int? exitCode, long job, bool accepted)
    {
        var how = exitCode switch
        {
            null => "exitcode unknown",
            > 128 and < 160 => $"signal {exitCode - 128} ({SignalName(exitCode.Value - 128)})",
            _ => $"exitcode {exitCode}",
        };
        return new WorkerLostException($"Worker exited prematurely: {how} Job: {job}.", accepted);
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => $"SIG{signal}",
    };
}
