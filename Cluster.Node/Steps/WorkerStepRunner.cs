using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Steps;

/// <summary>Starts a node's user steps in order and stops those that started in the reverse order, once.</summary>
internal sealed class WorkerStepRunner(WorkerSteps steps, NodeServices node, IActorRef supervisor)
{
    /// <summary>How long one step's stop may take before the next one stops; its token fires then.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly ILogger _log = node.Logging.CreateLogger("ClusterQueue.Node.Steps");
    private readonly Stack<IWorkerStep> _started = new();
    private readonly object _gate = new();

    /// <summary>Starts each step in turn.</summary>
    /// <exception cref="WorkerStepStartException">A step threw; the ones before it are still running until <see cref="StopAsync"/>.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var step in steps.InStartOrder)
        {
            try
            {
                await step.StartAsync(new NodeStepContext(node, supervisor, steps.Configuration, step.Name), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var failed = new WorkerStepStartException(step.Name, e);
                _log.LogError(e, "{Node}: {Problem}", node.Name, failed.Message);
                throw failed;
            }

            lock (_gate)
            {
                _started.Push(step);
            }

            _log.LogDebug("{Node}: bootstep {Step} started", node.Name, step.Name);
        }
    }

    /// <summary>Stops the started steps, last first; one that throws or hangs is logged and the rest still stop.</summary>
    public async Task StopAsync()
    {
        while (true)
        {
            IWorkerStep? step;
            lock (_gate)
            {
                if (!_started.TryPop(out step))
                {
                    return;
                }
            }

            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                // WaitAsync as well as the token: a step that ignores its token must not hold up the shutdown.
                await step.StopAsync(timeout.Token).WaitAsync(StopTimeout + StopTimeout).ConfigureAwait(false);
                _log.LogDebug("{Node}: bootstep {Step} stopped", node.Name, step.Name);
            }
            catch (Exception e)
            {
                _log.LogError(e, "{Node}: bootstep '{Step}' failed to stop: {Message}", node.Name, step.Name, e.Message);
            }
        }
    }
}
