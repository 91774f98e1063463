using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Pool;

/// <summary>
/// <c>-P prefork</c>: a pool slot whose tasks run in a child process of its own, so a task past its hard limit, or
/// terminated, is really stopped: the child is killed and the slot replaced.
/// </summary>
internal sealed class ChildSlot : ISlotRunner
{
    private readonly NodeServices _node;
    private readonly int _codeGeneration;
    private ChildProcess _child;
    private bool _overMemory;
    private bool _respawned;
    private volatile bool _abandoned;

    public ChildSlot(NodeServices node)
    {
        _node = node;
        _codeGeneration = node.TaskCode.Generation;
        _child = ChildProcess.Start(node.TaskCode.Path, node.Logging.CreateLogger<ChildSlot>());
        Ready = CheckTasksAsync();
    }

    public int Pid => _child.Pid;

    public Task Ready { get; }

    public Task Lost => _child.Exited;

    public bool IsAlive => _child.IsAlive;

    /// <remarks>A slot that replaced its child mid-dispatch retires after that task, so the pool's watch on <see cref="Lost"/> is never stale.</remarks>
    public bool MustRetire => !_child.IsAlive || _overMemory || _respawned || _codeGeneration != _node.TaskCode.Generation;

    /// <summary>Every task the node takes must exist in the child, or it would fail there as NotRegistered.</summary>
    private async Task CheckTasksAsync()
    {
        var tasks = await _child.Ready.ConfigureAwait(false);
        var missing = _node.TaskCode.Registry.Tasks.Select(t => t.Name).Where(name => !tasks.Contains(name)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            _child.Kill();
            throw new InvalidOperationException(
                $"the prefork pool runs only tasks of the task assembly (--app), and the child process does not have {string.Join(", ", missing)}; " +
                "register them with [CeleryTask] in that assembly, or use the threads pool");
        }
    }

    public async Task<JsonNode?> InvokeAsync(TaskRequest request, TaskContext context, RunningTask running)
    {
        var run = new JsonObject
        {
            ["op"] = "run",
            ["id"] = context.Id,
            ["task"] = context.Name,
            ["args"] = context.Args.DeepClone(),
            ["kwargs"] = context.Kwargs.DeepClone(),
            ["retries"] = context.Retries,
            ["hostname"] = context.Hostname,
            ["max_retries"] = context.Options.MaxRetries,
            ["default_retry_delay"] = context.Options.DefaultRetryDelay.TotalSeconds,
            // Measured only when a limit needs it: reading it costs about as much as a small task.
            ["report_memory"] = _node.Settings.MaxMemoryPerChild > 0,
        };

        // Celery's terminate signals the pool process; here it is killed, where a soft limit only cancels the token inside.
        await using var terminating = running.Cancellation.Token.Register(() =>
        {
            if (running.Terminated)
            {
                _child.Kill();
            }
        });
        JsonObject done;
        try
        {
            done = await _child.RunAsync(run, running.Cancellation.Token).ConfigureAwait(false);
        }
        catch (WorkerLostException lost) when (!lost.Accepted && !_respawned && !_abandoned && !running.Cancellation.IsCancellationRequested)
        {
            // The child died idle, between the slot's last look and this task: as billiard gives a job no process
            // read to another, the task goes to a fresh child instead of failing with WorkerLostError.
            _node.Log.LogWarning("Prefork child {Pid} died before it took task {Id}; starting a new child for it", _child.Pid, context.Id);
            _respawned = true;
            var dead = _child;
            _child = ChildProcess.Start(_node.TaskCode.Path, _node.Logging.CreateLogger<ChildSlot>());
            await dead.DisposeAsync().ConfigureAwait(false);
            await CheckTasksAsync().ConfigureAwait(false);
            done = await _child.RunAsync(run, running.Cancellation.Token).ConfigureAwait(false);
        }

        CheckMemory();
        return (string?)done["status"] switch
        {
            "success" => done["value"]?.DeepClone(),
            "retry" => throw new TaskRetryException(
                CeleryTime.Parse((string)done["eta"]!, "eta"),
                done["cause"] is JsonObject cause ? Failure(cause, context.Id) : null),
            "cancelled" => throw new OperationCanceledException(context.CancellationToken),
            _ => throw Failure(done, context.Id),
        };
    }

    private static ChildTaskException Failure(JsonObject failure, string taskId) => new(
        ExceptionInfo.FromJson(failure, taskId),
        (string?)failure["traceback"],
        (failure["types"] as JsonArray ?? []).Select(t => (string?)t).OfType<string>().ToList());

    /// <summary>Celery's max-memory-per-child: the child that crossed the limit finishes its task, then is replaced.</summary>
    private void CheckMemory()
    {
        var limit = _node.Settings.MaxMemoryPerChild;
        if (limit > 0 && _child.ResidentKiB > limit)
        {
            _overMemory = true;
            _node.Log.LogWarning(
                "Prefork child {Pid} uses {Resident} KiB, more than max-memory-per-child {Limit} KiB; replacing it",
                _child.Pid, _child.ResidentKiB, limit);
        }
    }

    public void Abandon(Task invocation)
    {
        _abandoned = true;
        _child.Kill();
        _ = invocation.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public ValueTask DisposeAsync() => _child.DisposeAsync();
}
