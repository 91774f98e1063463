using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// What the worker command shows once its node runs: the <c>ready.</c> line, Celery's per-task log lines, and the
/// host stopping when the node stops on its own. Registered after the worker, so it starts once the node is up.
/// </summary>
public sealed class WorkerConsoleReporter(
    WorkerHostedService worker,
    IHostApplicationLifetime lifetime,
    ILoggerFactory logging,
    TextWriter output) : IHostedService
{
    private readonly ILogger _log = logging.CreateLogger("ClusterQueue.Node.Tasks");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var node = worker.Node;
        node.TaskEvent += LogTaskEvent;
        // Celery prints this line when the worker consumes; scripts and tests wait for it.
        await output.WriteLineAsync($"{node.Name} ready.").ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _ = node.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
