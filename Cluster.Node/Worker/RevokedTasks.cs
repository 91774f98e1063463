using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>How a revoked task ends, as Celery's <c>Request.revoked()</c> and terminate record it: a REVOKED result, an ack, a task-revoked event.</summary>
internal static class RevokedTasks
{
    /// <summary>A task whose id is revoked arrived or came due: it never runs.</summary>
    public static Task DiscardAsync(NodeServices node, TaskRequest request, bool ignoreResult) =>
        EndAsync(node, request, ignoreResult, "revoked", new TaskEventDetail(request.Message));

    /// <summary>A running task was terminated by <c>revoke</c>: Celery reports it with SIGTERM's number.</summary>
    public static Task TerminatedAsync(NodeServices node, TaskRequest request, bool ignoreResult) =>
        EndAsync(node, request, ignoreResult, "terminated", new TaskEventDetail(request.Message, Terminated: true));

    private static async Task EndAsync(NodeServices node, TaskRequest request, bool ignoreResult, string reason, TaskEventDetail detail)
    {
        node.Log.LogInformation("Discarding revoked task {Task}[{TaskId}] ({Reason})", request.Name, request.Id, reason);
        if (!ignoreResult)
        {
            await node.StoreResultAsync(request.Message, TaskResult.Revoked(request.Id, reason)).ConfigureAwait(false);
        }

        await request.AckAsync().ConfigureAwait(false);
        node.Stats.OnRevoked();
        node.Raise(TaskEventKind.Revoked, request.Id, request.Name, exception: ExceptionInfo.Revoked(reason), reason: reason, detail: detail);
    }
}
