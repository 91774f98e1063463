using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>Raised by <see cref="AsyncResult"/> when the remote task failed; carries the remote exception's identity and traceback.</summary>
public class TaskFailedException : Exception
{
    public TaskFailedException(string taskId, ExceptionInfo exception, string? traceback)
        : base(MessageOf(taskId, exception))
    {
        TaskId = taskId;
        Exception = exception;
        RemoteTraceback = traceback;
    }

    public string TaskId { get; }

    public ExceptionInfo Exception { get; }

    public string ExcType => Exception.ExcType;

    public string? ExcModule => Exception.ExcModule;

    public IReadOnlyList<JsonNode?> ExcArgs => Exception.ExcMessage;

    /// <summary>The worker's traceback text, or null when the worker sent none (e.g. NotRegistered).</summary>
    public string? RemoteTraceback { get; }

    private static string MessageOf(string taskId, ExceptionInfo exception)
    {
        var name = exception.ExcModule is null or "builtins" ? exception.ExcType : $"{exception.ExcModule}.{exception.ExcType}";
        return $"Task '{taskId}' failed with {name}: {exception.Message}";
    }
}

/// <summary>Raised by <see cref="AsyncResult"/> when the task was revoked, terminated or expired (Celery's TaskRevokedError).</summary>
public sealed class TaskRevokedException : TaskFailedException
{
    public TaskRevokedException(string taskId, ExceptionInfo exception)
        : base(taskId, exception, null)
    {
    }

    /// <summary>"revoked", "terminated" or "expired".</summary>
    public string Reason => Exception.Message;
}
