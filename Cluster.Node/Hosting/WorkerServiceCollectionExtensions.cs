using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClusterQueue.Node.Hosting;

/// <summary>Registers a ClusterQueue worker node in a Generic Host.</summary>
public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a worker node that starts with the host and shuts down warmly with it. The app comes from the container
    /// (register a <see cref="Client.ClusterQueueApp"/>) unless <see cref="WorkerBuilder.UseApp"/> says otherwise.
    /// </summary>
    public static IServiceCollection AddClusterQueueWorker(this IServiceCollection services, Action<WorkerBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new WorkerBuilder();
        configure?.Invoke(builder);
        builder.Settings.Validate();
        services.AddSingleton(builder);
        services.AddSingleton<WorkerHostedService>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<WorkerHostedService>());
        return services;
    }
}
