using Akka.Actor;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Hosting;

/// <summary>Starts a worker node with the host, in the host's actor system, and stops it warmly (running tasks finish) when the host stops.</summary>
public sealed class WorkerHostedService(WorkerBuilder builder, IServiceProvider services, ActorSystem system, ILoggerFactory logging) : IHostedService, IAsyncDisposable
{
    private WorkerNode? _node;

    /// <summary>The running node, once the host has started.</summary>
    public WorkerNode Node => _node ?? throw new InvalidOperationException("the worker node has not started yet; it starts with the host");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var app = builder.AppFactory(services);
        var steps = builder.BuildSteps(services);
        _node = await WorkerNode.StartAsync(builder.Settings, app, logging, observer: null, system, steps, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A warm shutdown; when the host's own shutdown timeout fires first, the node turns cold.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_node is not null)
        {
            await _node.WarmShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }
    }
}
