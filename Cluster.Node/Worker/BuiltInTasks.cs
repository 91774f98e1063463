using System.Text.Json.Nodes;
using ClusterQueue.Canvas;
using ClusterQueue.Client;
using ClusterQueue.Protocol;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Celery's built-in tasks that a worker must know to take part in other clients' workflows. They run in the worker
/// process on any pool, since they use its result backend and broker connection.
/// </summary>
internal static class BuiltInTasks
{
    public static TaskRegistry Create(NodeServices node)
    {
        var registry = new TaskRegistry();
        // Celery's options: retried for ever, every result_chord_retry_interval (1 s), no result of its own.
        registry.Register(
            CanvasPublisher.ChordUnlockTask,
            (TaskContext context) => ChordUnlockAsync(node, context),
            new TaskOptions { IgnoreResult = true, MaxRetries = null, DefaultRetryDelay = TimeSpan.FromSeconds(1) });
        return registry;
    }

    /// <summary>
    /// Celery's <c>unlock_chord(group_id, callback, interval=None, max_retries=None, result=None)</c>: retries until every
    /// member is ready, then completes the chord. Sent by clients whose result store cannot count (file://).
    /// </summary>
    private static async Task ChordUnlockAsync(NodeServices node, TaskContext context)
    {
        if (context.Args.Count != 2 || context.Args[0] is not JsonValue groupValue || !groupValue.TryGetValue<string>(out var groupId))
        {
            throw new TaskArgumentException("celery.chord_unlock() takes (group_id, callback): args must be a group id and a signature");
        }

        var body = Signature.FromJson(context.Args[1], "args[1]");
        if (context.Kwargs["result"] is not JsonArray tuples)
        {
            throw new TaskArgumentException("celery.chord_unlock(): kwargs.result must be the list of the members' result tuples");
        }

        var memberIds = tuples.Select((tuple, i) => tuple is JsonArray { Count: > 0 } pair && pair[0] is JsonArray { Count: > 0 } head
                && head[0] is JsonValue id && id.TryGetValue<string>(out var text)
            ? text
            : throw new TaskArgumentException($"celery.chord_unlock(): kwargs.result[{i}] is not a result tuple [[id, parent], children]")).ToList();
        var interval = context.Kwargs["interval"] is JsonValue seconds && seconds.TryGetValue<double>(out var s) ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
        var maxRetries = context.Kwargs["max_retries"] is JsonValue limit && limit.TryGetValue<int>(out var m) ? m : (int?)null;

        var stored = await node.App.Results.GetResultsAsync(memberIds, context.CancellationToken).ConfigureAwait(false);
        if (stored.Any(result => result is null || !Results.TaskStates.IsReady(result.Status)))
        {
            throw context.Retry(countdown: interval, maxRetries: maxRetries);
        }

        await new ChordJoin(node).CompleteAsync(groupId, memberIds, body, new Lineage(RootId: context.Id)).ConfigureAwait(false);
    }
}
