using System.Text.Json.Nodes;
using ClusterQueue.Canvas;
using ClusterQueue.Client;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// What follows a finished task, as Celery's worker and result backend do it: callbacks (<c>link</c>) and the next
/// step of a chain on success, errbacks (<c>link_error</c>) and the failure of the chain's later steps on failure, and
/// a chord member's count, which lets the member that finishes last apply the chord's body.
/// </summary>
internal sealed class WorkflowSteps(NodeServices node)
{
    /// <summary>Applies the callbacks and the chain's next step with <paramref name="value"/>; returns the children for the result, or null.</summary>
    /// <exception cref="MessageDecodeException">A signature in the embed is malformed; the message names it.</exception>
    public async Task<JsonArray?> AfterSuccessAsync(TaskMessage finished, JsonNode? value)
    {
        var embed = finished.Embed;
        var lineage = LineageOf(finished);
        JsonArray? children = null;
        foreach (var callback in embed.Callbacks ?? [])
        {
            (children ??= []).Add(await node.App.Canvas.ApplyAsync(CanvasPublisher.Freeze(callback), [value?.DeepClone()], lineage).ConfigureAwait(false));
        }

        if (embed.Chain is { Count: > 0 } chain)
        {
            var next = CanvasPublisher.Freeze(chain[^1]);
            (children ??= []).Add(await node.App.Canvas.ApplyAsync(next, [value?.DeepClone()], lineage, [.. chain.Take(chain.Count - 1)]).ConfigureAwait(false));
        }

        return children;
    }

    /// <summary>
    /// After a failure is stored: the chain's later steps fail with the same exception (so a wait on the chain ends,
    /// as in Celery 5), the errbacks are applied with the task's id, and a chord member is counted.
    /// </summary>
    public async Task AfterFailureAsync(TaskMessage failed, TaskResult failure)
    {
        try
        {
            foreach (var step in failed.Embed.Chain ?? [])
            {
                if (step.SubtaskType is null && step.Options["task_id"] is JsonValue id && id.TryGetValue<string>(out var stepId))
                {
                    await node.StoreResultAsync(failed, failure with { TaskId = stepId }).ConfigureAwait(false);
                }
            }

            foreach (var errback in failed.Embed.Errbacks ?? [])
            {
                await node.App.Canvas.ApplyAsync(CanvasPublisher.Freeze(errback), [failed.Id], LineageOf(failed)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The task's failure is stored already; a malformed errback or a broker error must not hide it.
            node.Log.LogError(e, "Task {Task}[{TaskId}] failed, and its errbacks could not be applied", failed.Task, failed.Id);
        }

        await ChordPartAsync(failed).ConfigureAwait(false);
    }

    /// <summary>Counts a chord member once its result is stored; the member that completes the count applies the body.</summary>
    public async Task ChordPartAsync(TaskMessage finished)
    {
        if (finished.Embed.Chord is not { } body || finished.Group is not { } groupId || !node.App.HasResultBackend || !node.App.Results.CountsChordParts)
        {
            // Not a chord member, or a store that cannot count: then a celery.chord_unlock task joins the chord.
            return;
        }

        try
        {
            var results = node.App.Results;
            if (!await results.ChordPartReturnAsync(groupId, finished.Id).ConfigureAwait(false))
            {
                return;
            }

            var members = await results.RestoreGroupAsync(groupId).ConfigureAwait(false)
                ?? throw MemoryResultBackend.ChordGroupMissing(groupId);
            await new ChordJoin(node).CompleteAsync(groupId, members, body, LineageOf(finished)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            node.Log.LogError(e, "Chord {GroupId}: member {Task}[{TaskId}] finished but the chord could not be joined", groupId, finished.Task, finished.Id);
        }
    }

    private static Lineage LineageOf(TaskMessage finished) =>
        new(finished.Id, finished.RootId ?? finished.Id, finished.Priority, string.IsNullOrEmpty(finished.ReplyTo) ? null : finished.ReplyTo);
}

/// <summary>
/// Completes a chord whose members are all ready: the body gets their results in order, or, when one failed, the body
/// fails with Celery's <c>ChordError</c> and its errbacks run. Shared by the counting join and <c>celery.chord_unlock</c>.
/// </summary>
internal sealed class ChordJoin(NodeServices node)
{
    public async Task CompleteAsync(string groupId, IReadOnlyList<string> memberIds, Signature body, Lineage lineage)
    {
        var results = node.App.Results;
        var values = new JsonArray();
        var stored = await results.GetResultsAsync(memberIds).ConfigureAwait(false);
        for (var i = 0; i < memberIds.Count; i++)
        {
            var result = stored[i];
            if (result is null || result.Status != TaskStates.Success)
            {
                var culprit = result is null ? "has no result" : "raised " + Describe(result);
                await FailBodyAsync(body, $"Dependency {memberIds[i]} {culprit}", lineage).ConfigureAwait(false);
                return;
            }

            values.Add(result.Result?.DeepClone());
        }

        node.Log.LogInformation("Chord {GroupId} joined {Count} results; applying {Body}", groupId, memberIds.Count, body.Task);
        await node.App.Canvas.ApplyAsync(CanvasPublisher.Freeze(body), [values], lineage with { ParentId = null }).ConfigureAwait(false);
    }

    /// <summary>Celery's <c>chord_error_from_stack</c>: the body's errbacks, then a FAILURE for the body.</summary>
    private async Task FailBodyAsync(Signature body, string reason, Lineage lineage)
    {
        var bodyId = CanvasPublisher.FinalResultOf(CanvasPublisher.Freeze(body)).Id;
        node.Log.LogWarning("Chord body {Body}[{BodyId}] fails: {Reason}", body.Task, bodyId, reason);
        var error = new ExceptionInfo("ChordError", [JsonValue.Create(reason)], "celery.exceptions");
        foreach (var errback in SignatureOptions.ToSendOptions(body.Options, body.Task).LinkError ?? [])
        {
            await node.App.Canvas.ApplyAsync(CanvasPublisher.Freeze(errback), [bodyId], lineage).ConfigureAwait(false);
        }

        await node.App.Results.StoreAsync(TaskResult.Failed(bodyId, error, traceback: null)).ConfigureAwait(false);
    }

    private static string Describe(TaskResult result)
    {
        try
        {
            var info = ExceptionInfo.FromJson(result.Result, result.TaskId);
            return PythonRepr.Exception(info.ExcType, [.. info.ExcMessage.Select(m => m?.DeepClone())]);
        }
        catch (ResultFormatException)
        {
            return result.Status;
        }
    }
}
