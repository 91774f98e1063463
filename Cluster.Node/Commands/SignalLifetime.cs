using System.Runtime.InteropServices;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// The worker's host lifetime, in Celery's manner: the first SIGTERM or SIGINT is a warm shutdown, the next one is
/// cold. It replaces the console lifetime, which would treat every signal as the same stop request.
/// </summary>
public sealed class SignalLifetime(IHostApplicationLifetime lifetime, WorkerHostedService worker, ILogger<SignalLifetime> log)
    : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    /// <summary>True once a second signal asked for a cold shutdown.</summary>
    public bool WentCold => Volatile.Read(ref _signals) > 1;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the process alive: the shutdown below decides when it ends.
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            log.LogWarning("{Signal}: warm shutdown: taking no new tasks and waiting for the running ones (signal again for a cold shutdown)", context.Signal);
            lifetime.StopApplication();
            return;
        }

        WorkerNode node;
        try
        {
            node = worker.Node;
        }
        catch (InvalidOperationException)
        {
            // Nothing runs yet; the stop already requested ends the host as soon as the node is up.
            log.LogWarning("{Signal}: the node is still starting; it stops once started", context.Signal);
            return;
        }

        log.LogWarning("{Signal}: cold shutdown: cancelling running tasks", context.Signal);
        _ = node.ColdShutdownAsync();
    }
}
