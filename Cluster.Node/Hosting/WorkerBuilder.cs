using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace ClusterQueue.Node.Hosting;

/// <summary>Configures a worker node hosted in a Generic Host: its settings and the app it takes tasks and the broker from.</summary>
public sealed class WorkerBuilder
{
    /// <summary>The node's settings; <see cref="WorkerSettings.Validate"/> runs when the host starts.</summary>
    public WorkerSettings Settings { get; set; } = new();

    /// <summary>Makes the app; by default the <see cref="ClusterQueueApp"/> registered in the container.</summary>
    internal Func<IServiceProvider, ClusterQueueApp> AppFactory { get; private set; } = services => services.GetRequiredService<ClusterQueueApp>();

    public WorkerBuilder WithSettings(WorkerSettings settings)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        return this;
    }

    /// <summary>Uses an app made from the container instead of the registered one.</summary>
    public WorkerBuilder UseApp(Func<IServiceProvider, ClusterQueueApp> factory)
    {
        AppFactory = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }
}
