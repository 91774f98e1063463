using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>One task's result as Celery's result backends store it (the "result meta").</summary>
public sealed record TaskResult
{
    public required string TaskId { get; init; }

    /// <summary>One of <see cref="TaskStates"/>, or a custom state name.</summary>
    public required string Status { get; init; }

    /// <summary>The return value; on FAILURE, RETRY and REVOKED the exception object (see <see cref="ExceptionInfo"/>).</summary>
    public JsonNode? Result { get; init; }

    public string? Traceback { get; init; }

    /// <summary>Celery's list of child result tuples, e.g. <c>[[["id", null], null]]</c>; empty for a plain task.</summary>
    public JsonNode? Children { get; init; } = new JsonArray();

    /// <summary>When the state was stored, in UTC; null until a backend stores it.</summary>
    public DateTime? DateDone { get; init; }

    // Fields that Celery adds with result_extended=True.
    public string? Name { get; init; }

    public JsonNode? Args { get; init; }

    public JsonNode? Kwargs { get; init; }

    public string? Worker { get; init; }

    public int? Retries { get; init; }

    public string? Queue { get; init; }

    /// <summary>The task's reply_to: the client queue that the rpc backend sends this result to. Never stored.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>The task's correlation_id, which the rpc backend puts on the result message; the task id when null. Never stored.</summary>
    public string? CorrelationId { get; init; }

    public bool IsReady => TaskStates.IsReady(Status);

    /// <summary>The exception carried by a FAILURE, RETRY or REVOKED result; null for the other states.</summary>
    /// <exception cref="ResultFormatException">The result is an object that is not an exception object.</exception>
    public ExceptionInfo? Exception =>
        Status is TaskStates.Failure or TaskStates.Retry or TaskStates.Revoked && Result is JsonObject
            ? ExceptionInfo.FromJson(Result, TaskId)
            : null;

    /// <summary>Rejects a result that no store could find again.</summary>
    /// <exception cref="ArgumentException">TaskId or Status is empty.</exception>
    public void EnsureStorable()
    {
        if (string.IsNullOrWhiteSpace(TaskId))
        {
            throw new ArgumentException("A result needs a task id.", nameof(TaskId));
        }

        if (string.IsNullOrWhiteSpace(Status))
        {
            throw new ArgumentException($"The result of task '{TaskId}' needs a status.", nameof(Status));
        }
    }

    public static TaskResult Succeeded(string taskId, JsonNode? value) =>
        new() { TaskId = taskId, Status = TaskStates.Success, Result = value };

    public static TaskResult Failed(string taskId, ExceptionInfo exception, string? traceback) =>
        new() { TaskId = taskId, Status = TaskStates.Failure, Result = exception.ToJson(), Traceback = traceback };

    public static TaskResult Retrying(string taskId, ExceptionInfo cause, string? traceback) =>
        new() { TaskId = taskId, Status = TaskStates.Retry, Result = cause.ToJson(), Traceback = traceback };

    /// <summary>A REVOKED result; Celery's reasons are "revoked", "terminated" and "expired".</summary>
    public static TaskResult Revoked(string taskId, string reason) =>
        new() { TaskId = taskId, Status = TaskStates.Revoked, Result = ExceptionInfo.Revoked(reason).ToJson() };

    /// <summary>The STARTED result that track_started sends: <c>{"pid", "hostname"}</c>.</summary>
    public static TaskResult Started(string taskId, int pid, string hostname) =>
        new() { TaskId = taskId, Status = TaskStates.Started, Result = new JsonObject { ["pid"] = pid, ["hostname"] = hostname } };
}
