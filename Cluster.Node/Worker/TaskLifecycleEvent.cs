using ClusterQueue.Results;

namespace ClusterQueue.Node.Worker;

/// <summary>What happened to a task on a node; the names follow Celery's task events (task-received, task-started…).</summary>
public enum TaskEventKind
{
    Received,
    Started,
    Succeeded,
    Failed,
    Retried,
    Revoked,

    /// <summary>The message went to the dead-letter queue: undecodable, or an unknown task name.</summary>
    Rejected,
}

/// <summary>One step in a task's life on a worker node, raised by <see cref="WorkerNode.TaskEvent"/>.</summary>
/// <param name="TaskId">The task id; empty when a message was too broken to carry one.</param>
/// <param name="TaskName">The task name; empty when the message could not be decoded.</param>
/// <param name="State">The Celery state the event stands for (<see cref="TaskStates"/>).</param>
/// <param name="Runtime">How long the task ran; set on Succeeded, Failed and Retried.</param>
/// <param name="Exception">The failure, retry cause or revoke reason; null otherwise.</param>
/// <param name="Reason">Why a message was rejected or revoked, in words.</param>
public sealed record TaskLifecycleEvent(
    TaskEventKind Kind,
    string TaskId,
    string TaskName,
    string State,
    string NodeName,
    DateTimeOffset Timestamp,
    TimeSpan? Runtime = null,
    ExceptionInfo? Exception = null,
    string? Reason = null)
{
    /// <summary>The Celery event type, e.g. <c>task-succeeded</c>.</summary>
    public string EventType => "task-" + Kind.ToString().ToLowerInvariant();

    /// <summary>The Celery state each kind reports.</summary>
    public static string StateOf(TaskEventKind kind) => kind switch
    {
        TaskEventKind.Received => TaskStates.Received,
        TaskEventKind.Started => TaskStates.Started,
        TaskEventKind.Succeeded => TaskStates.Success,
        TaskEventKind.Failed => TaskStates.Failure,
        TaskEventKind.Retried => TaskStates.Retry,
        TaskEventKind.Revoked => TaskStates.Revoked,
        _ => TaskStates.Rejected,
    };
}
