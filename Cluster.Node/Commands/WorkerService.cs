using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>Runs one <see cref="WorkerNode"/> for the lifetime of the host: started with the host, warm-stopped with it.</summary>
public sealed class WorkerService(
    WorkerSettings settings,
    ClusterQueueApp app,
    ILoggerFactory logging,
    IHostApplicationLifetime lifetime,
    TextWriter output) : IHostedService
{
    private readonly ILogger _log = logging.CreateLogger("ClusterQueue.Node.Tasks");
    private WorkerNode? _node;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _node = await WorkerNode.StartAsync(settings, app, logging, cancellationToken).ConfigureAwait(false);
        _node.TaskEvent += LogTaskEvent;
        // Celery prints this line when the worker consumes; scripts and tests wait for it.
        await output.WriteLineAsync($"{_node.Name} ready.").ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _ = _node.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
    }

    /// <summary>A warm shutdown; when the host's own shutdown timeout fires first, the node turns cold.</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        _node?.WarmShutdownAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Cuts a warm shutdown short: running tasks are cancelled, late-ack messages return to the broker.</summary>
    public Task ColdShutdownAsync() => _node?.ColdShutdownAsync() ?? Task.CompletedTask;

    // Celery's worker log lines; a failure is already logged as a warning by the node with its exception.
    private void LogTaskEvent(TaskLifecycleEvent e)
    {
        switch (e.Kind)
        {
            case TaskEventKind.Received:
                _log.LogInformation("Task {Task}[{TaskId}] received", e.TaskName, e.TaskId);
                break;
            case TaskEventKind.Started:
                _log.LogDebug("Task {Task}[{TaskId}] started", e.TaskName, e.TaskId);
                break;
            case TaskEventKind.Succeeded:
                _log.LogInformation("Task {Task}[{TaskId}] succeeded in {Seconds:0.######}s", e.TaskName, e.TaskId, e.Runtime?.TotalSeconds);
                break;
            case TaskEventKind.Retried:
                _log.LogInformation("Task {Task}[{TaskId}] retry: {Reason}", e.TaskName, e.TaskId, e.Exception?.Message ?? e.Reason);
                break;
            case TaskEventKind.Revoked:
            case TaskEventKind.Rejected:
                _log.LogWarning("Task {Task}[{TaskId}] {Kind}: {Reason}", e.TaskName, e.TaskId, e.Kind.ToString().ToLowerInvariant(), e.Reason);
                break;
        }
    }
}
