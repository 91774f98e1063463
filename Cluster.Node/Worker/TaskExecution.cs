using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Runs one task request on an executor and records its outcome, as Celery's <c>trace_task</c> does: expiry, acks,
/// STARTED, time limits, retries and autoretry, then SUCCESS or FAILURE. A task's exception never escapes.
/// </summary>
internal sealed class TaskExecution(NodeServices node)
{
    /// <summary>Runs <paramref name="request"/> on <paramref name="slot"/>; true when the executor must be replaced (its task was abandoned).</summary>
    public async Task<bool> RunAsync(TaskRequest request, ISlotRunner slot, CancellationToken executorStopping)
    {
        if (node.ColdStopping || request.Lease.IsClosed)
        {
            // Not started, so not ours to finish: the broker hands it out again.
            await request.RequeueAsync().ConfigureAwait(false);
            node.Unreserved(request);
            return false;
        }

        var message = request.Message;
        var ignoreResult = message.IgnoreResult || request.Definition.Options.IgnoreResult;
        if (message.Expires is { } expires && expires <= node.Time.GetUtcNow())
        {
            await RevokeExpiredAsync(request, ignoreResult).ConfigureAwait(false);
            return false;
        }

        if (node.Revoked.Contains(request.Id))
        {
            // Revoked while it waited for a slot or its ETA: Celery checks again right before it runs.
            node.Unreserved(request);
            await RevokedTasks.DiscardAsync(node, request, ignoreResult).ConfigureAwait(false);
            return false;
        }

        if (!request.AcksLate && !await request.AckAsync().ConfigureAwait(false))
        {
            // The consumer that delivered it is gone and the broker has it again; running it here too would run it twice.
            node.Unreserved(request);
            return false;
        }

        node.Started(request);
        var running = node.Running.Add(request);
        try
        {
            return await RunStartedAsync(request, slot, running, ignoreResult, executorStopping).ConfigureAwait(false);
        }
        finally
        {
            node.Finished(request);
            node.Running.Remove(running);
            running.Dispose();
        }
    }

    private async Task<bool> RunStartedAsync(TaskRequest request, ISlotRunner slot, RunningTask running, bool ignoreResult, CancellationToken executorStopping)
    {
        var message = request.Message;
        var options = request.Definition.Options;
        using var activity = ClusterQueueTelemetry.Source.StartActivity(
            $"execute {message.Task}", ActivityKind.Consumer, ClusterQueueTelemetry.ParentFrom(message.ExtraHeaders));
        activity?.SetTag("celery.task_name", message.Task);
        activity?.SetTag("celery.task_id", message.Id);
        activity?.SetTag("celery.hostname", node.Name);
        using var scope = node.Log.BeginScope(new Dictionary<string, object> { ["NodeName"] = node.Name, ["TaskId"] = message.Id, ["TaskName"] = message.Task });

        node.Raise(TaskEventKind.Started, message.Id, message.Task, detail: new TaskEventDetail(message));
        if (options.TrackStarted && !ignoreResult)
        {
            await node.StoreResultAsync(message, TaskResult.Started(message.Id, Environment.ProcessId, node.Name)).ConfigureAwait(false);
        }

        var hard = Limit(message.TimeLimit.Hard, node.Overrides.TimeLimitOf(request.Definition), node.Settings.TaskTimeLimit);
        var soft = Limit(message.TimeLimit.Soft, node.Overrides.SoftTimeLimitOf(request.Definition), node.Settings.TaskSoftTimeLimit);
        using var softTimer = soft is { } softLimit ? new CancellationTokenSource(softLimit, node.Time) : null;
        using var softRegistration = softTimer?.Token.Register(() =>
        {
            running.SoftLimitHit = true;
            running.Cancellation.Cancel();
        });

        var context = new TaskContext
        {
            Id = message.Id,
            Name = message.Task,
            Args = message.Args,
            Kwargs = message.Kwargs,
            Retries = message.Retries,
            Hostname = node.Name,
            Options = options,
            CancellationToken = running.Cancellation.Token,
        };

        var clock = Stopwatch.StartNew();
        var invocation = (node.IsBuiltIn(request.Definition) ? ThreadSlot.Instance : slot).InvokeAsync(request, context, running);
        if (!await FinishesInTimeAsync(invocation, hard, executorStopping).ConfigureAwait(false))
        {
            // The method may not listen to its token: a prefork child is killed, a thread is left to return on its own.
            slot.Abandon(invocation);
            await running.Cancellation.CancelAsync().ConfigureAwait(false);
            if (executorStopping.IsCancellationRequested || running.ColdStopped)
            {
                await LostAsync(request, running).ConfigureAwait(false);
                return true;
            }

            if (running.Terminated)
            {
                await RevokedTasks.TerminatedAsync(node, request, ignoreResult).ConfigureAwait(false);
                return true;
            }

            await HardTimeLimitAsync(request, hard!.Value, clock.Elapsed, ignoreResult).ConfigureAwait(false);
            activity?.SetStatus(ActivityStatusCode.Error, "TimeLimitExceeded");
            return true;
        }

        try
        {
            var value = await invocation.ConfigureAwait(false);
            if (running.Terminated)
            {
                // It finished although terminated; the revoke was acknowledged, so its outcome is the revoke.
                await RevokedTasks.TerminatedAsync(node, request, ignoreResult).ConfigureAwait(false);
                return false;
            }

            // Celery applies callbacks and the chain before it marks the task done, so the result can name its children.
            var children = await node.Workflow.AfterSuccessAsync(message, value).ConfigureAwait(false);
            if (!ignoreResult)
            {
                var succeeded = TaskResult.Succeeded(message.Id, value);
                await node.StoreResultAsync(message, children is null ? succeeded : succeeded with { Children = children }).ConfigureAwait(false);
            }

            // After the store, so that the member completing a chord reads its own result with the others.
            await node.Workflow.ChordPartAsync(message).ConfigureAwait(false);

            await AckLateAsync(request).ConfigureAwait(false);
            node.Stats.OnSucceeded();
            node.Raise(TaskEventKind.Succeeded, message.Id, message.Task, clock.Elapsed, detail: new TaskEventDetail(message, Result: value));
        }
        catch (Exception) when (running.ColdStopped)
        {
            // A cold shutdown stopped it: a late-ack message is back on its queue, and no outcome is recorded.
        }
        catch (Exception) when (running.Terminated)
        {
            await RevokedTasks.TerminatedAsync(node, request, ignoreResult).ConfigureAwait(false);
        }
        catch (Pool.WorkerLostException lost)
        {
            await WorkerLostAsync(request, lost, clock.Elapsed, ignoreResult, activity).ConfigureAwait(false);
            return true;
        }
        catch (TaskRetryException retry)
        {
            await RetryAsync(request, retry.Eta, retry.InnerException ?? retry, clock.Elapsed, ignoreResult, activity).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (running.SoftLimitHit)
        {
            var info = new ExceptionInfo("SoftTimeLimitExceeded", [SecondsNode(soft!.Value)], "billiard.exceptions");
            await FailAsync(request, info, e.ToString(), clock.Elapsed, ignoreResult, activity).ConfigureAwait(false);
        }
        catch (Exception e) when (ShouldAutoRetry(request, e))
        {
            var countdown = options.RetryBackoff
                ? RetryBackoff.Interval(1, message.Retries, options.RetryBackoffMax, options.RetryJitter, Random.Shared)
                : options.DefaultRetryDelay;
            await RetryAsync(request, node.Time.GetUtcNow() + countdown, e, clock.Elapsed, ignoreResult, activity).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await FailAsync(request, Describe(e), e.ToString(), clock.Elapsed, ignoreResult, activity).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// Waits for the task method; false when the hard limit passed or the executor is stopping first. WaitAsync
    /// allocates no timer when there is no limit, which matters on the per-task path.
    /// </summary>
    private async Task<bool> FinishesInTimeAsync(Task invocation, TimeSpan? hard, CancellationToken executorStopping)
    {
        try
        {
            await invocation.WaitAsync(hard ?? Timeout.InfiniteTimeSpan, node.Time, executorStopping).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!invocation.IsCompleted)
        {
            return false;
        }
        catch (OperationCanceledException) when (executorStopping.IsCancellationRequested && !invocation.IsCompleted)
        {
            return false;
        }
        catch
        {
            // The task's own exception is read from the invocation by the caller.
        }

        return true;
    }

    private static bool ShouldAutoRetry(TaskRequest request, Exception e)
    {
        var options = request.Definition.Options;
        return options.AutoRetryFor.Any(type => type.IsInstanceOfType(e) || (e is Pool.ChildTaskException child && child.IsInstanceOf(type)))
            && (options.MaxRetries is not { } max || request.Message.Retries < max);
    }

    private async Task RetryAsync(TaskRequest request, DateTimeOffset eta, Exception cause, TimeSpan runtime, bool ignoreResult, Activity? activity)
    {
        var message = request.Message;
        var next = message with
        {
            Retries = message.Retries + 1,
            Eta = eta,
            ParentId = message.Id,
            RootId = message.RootId ?? message.Id,
        };
        try
        {
            var delivery = request.Delivery;
            if (string.IsNullOrEmpty(delivery.Exchange))
            {
                await node.App.PublishAsync(next, queue: delivery.RoutingKey).ConfigureAwait(false);
            }
            else
            {
                await node.App.PublishAsync(next, exchange: delivery.Exchange, routingKey: delivery.RoutingKey).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            // Celery fails the task when its retry cannot be sent; acking it silently would lose it.
            node.Log.LogError(e, "Republishing {Task}[{TaskId}] for a retry failed", message.Task, message.Id);
            await FailAsync(request, Describe(e), e.ToString(), runtime, ignoreResult, activity).ConfigureAwait(false);
            return;
        }

        var info = Describe(cause);
        if (!ignoreResult)
        {
            await node.StoreResultAsync(message, TaskResult.Retrying(message.Id, info, cause.ToString())).ConfigureAwait(false);
        }

        await request.AckAsync().ConfigureAwait(false);
        node.Stats.OnRetried();
        node.Raise(TaskEventKind.Retried, message.Id, message.Task, runtime, info, detail: new TaskEventDetail(message, Traceback: cause.ToString()));
    }

    private async Task FailAsync(TaskRequest request, ExceptionInfo info, string? traceback, TimeSpan runtime, bool ignoreResult, Activity? activity)
    {
        activity?.SetStatus(ActivityStatusCode.Error, info.ExcType);
        node.Log.LogWarning("Task {Task}[{TaskId}] raised {ExcType}: {Message}", request.Name, request.Id, info.ExcType, info.Message);
        var failure = TaskResult.Failed(request.Id, info, traceback);
        if (!ignoreResult)
        {
            await node.StoreResultAsync(request.Message, failure).ConfigureAwait(false);
        }

        await node.Workflow.AfterFailureAsync(request.Message, failure).ConfigureAwait(false);

        // Celery's acks_on_failure_or_timeout (default true): a failed late-ack task is acked, not redelivered.
        await AckLateAsync(request).ConfigureAwait(false);
        node.Stats.OnFailed();
        node.Raise(TaskEventKind.Failed, request.Id, request.Name, runtime, info, detail: new TaskEventDetail(request.Message, Traceback: traceback));
    }

    /// <summary>
    /// The prefork child died under the task (killed, crashed): Celery requeues a late-ack task with
    /// reject_on_worker_lost, and otherwise fails it with WorkerLostError.
    /// </summary>
    private async Task WorkerLostAsync(TaskRequest request, Pool.WorkerLostException lost, TimeSpan runtime, bool ignoreResult, Activity? activity)
    {
        if (request.AcksLate && node.Settings.RejectOnWorkerLost)
        {
            node.Log.LogError("Task {Task}[{TaskId}]: {Reason}; requeued (reject-on-worker-lost)", request.Name, request.Id, lost.Message);
            await request.RequeueAsync().ConfigureAwait(false);
            return;
        }

        await FailAsync(request, lost.Info, traceback: null, runtime, ignoreResult, activity).ConfigureAwait(false);
    }

    private async Task HardTimeLimitAsync(TaskRequest request, TimeSpan limit, TimeSpan runtime, bool ignoreResult)
    {
        // A prefork child was killed; a thread keeps running until its method returns. Either way the slot is replaced,
        // and the task is recorded as Celery records it.
        node.Log.LogError("Task {Task}[{TaskId}] exceeded its hard time limit of {Limit}", request.Name, request.Id, limit);
        var info = new ExceptionInfo("TimeLimitExceeded", [SecondsNode(limit)], "billiard.exceptions");
        var failure = TaskResult.Failed(request.Id, info, traceback: null);
        if (!ignoreResult)
        {
            await node.StoreResultAsync(request.Message, failure).ConfigureAwait(false);
        }

        await node.Workflow.AfterFailureAsync(request.Message, failure).ConfigureAwait(false);

        await AckLateAsync(request).ConfigureAwait(false);
        node.Stats.OnFailed();
        node.Raise(TaskEventKind.Failed, request.Id, request.Name, runtime, info);
    }

    /// <summary>The executor was stopped under a running task: Celery's WorkerLostError path.</summary>
    private async Task LostAsync(TaskRequest request, RunningTask running)
    {
        if (running.ColdStopped)
        {
            return;
        }

        if (request.AcksLate && node.Settings.RejectOnWorkerLost)
        {
            await request.RequeueAsync().ConfigureAwait(false);
        }
        else
        {
            await request.AckAsync().ConfigureAwait(false);
        }
    }

    private async Task RevokeExpiredAsync(TaskRequest request, bool ignoreResult)
    {
        node.Log.LogInformation("Discarding expired task {Task}[{TaskId}]", request.Name, request.Id);
        node.Unreserved(request);
        if (!ignoreResult)
        {
            await node.StoreResultAsync(request.Message, TaskResult.Revoked(request.Id, "expired")).ConfigureAwait(false);
        }

        await request.AckAsync().ConfigureAwait(false);
        node.Stats.OnRevoked();
        node.Raise(TaskEventKind.Revoked, request.Id, request.Name, exception: ExceptionInfo.Revoked("expired"), reason: "expired", detail: new TaskEventDetail(request.Message, Expired: true));
    }

    private Task AckLateAsync(TaskRequest request) => request.AcksLate ? request.AckAsync() : Task.CompletedTask;

    internal static ExceptionInfo Describe(Exception e) => e switch
    {
        Pool.ChildTaskException child => child.Info,
        // Bad arguments are Python's TypeError, so a Python client sees the error it would get from a Python worker.
        TaskArgumentException => new ExceptionInfo("TypeError", [JsonValue.Create(e.Message)], "builtins"),
        _ => ExceptionInfo.FromException(e),
    };

    /// <summary>The message's own limit wins, then the task's, then the node's; zero means none.</summary>
    private static TimeSpan? Limit(double? fromMessage, TimeSpan? fromTask, TimeSpan fromNode)
    {
        var limit = fromMessage is { } seconds ? TimeSpan.FromSeconds(seconds) : fromTask ?? fromNode;
        return limit > TimeSpan.Zero ? limit : null;
    }

    /// <summary>Whole seconds as an integer, as Celery reports <c>TimeLimitExceeded(1)</c>; fractions as a float.</summary>
    internal static JsonNode SecondsNode(TimeSpan limit) =>
        limit.TotalSeconds == Math.Floor(limit.TotalSeconds)
            ? JsonValue.Create((long)limit.TotalSeconds)
            : JsonValue.Create(limit.TotalSeconds);

}
