using Akka.Hosting;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClusterQueue.Node.Hosting;

/// <summary>Registers a ClusterQueue worker node in a Generic Host, in an actor system that Akka.Hosting runs.</summary>
public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a worker node that starts with the host and shuts down warmly with it. The app comes from the container
    /// (register a <see cref="Client.ClusterQueueApp"/>) unless <see cref="WorkerBuilder.UseApp"/> says otherwise.
    /// The actor system is Akka.Hosting's, configured by <see cref="WithClusterQueueWorker"/>.
    /// </summary>
    public static IServiceCollection AddClusterQueueWorker(this IServiceCollection services, Action<WorkerBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new WorkerBuilder();
        configure?.Invoke(builder);
        builder.Settings.Validate();
        // Registered first, so the actor system starts before the node and stops after it.
        services.AddAkka(WorkerNode.ActorSystemName, akka => akka.WithClusterQueueWorker(builder.Settings));
        services.AddSingleton(builder);
        services.AddSingleton<WorkerHostedService>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<WorkerHostedService>());
        return services;
    }

    /// <summary>
    /// The Akka settings a worker node needs: the <c>akka</c> section of its configuration, a drain phase as long as
    /// its shutdown timeout, and Akka's log events in the host's <c>ILoggerFactory</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithClusterQueueWorker(this AkkaConfigurationBuilder akka, WorkerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(akka);
        ArgumentNullException.ThrowIfNull(settings);
        return akka
            .AddHocon(WorkerNode.ActorSystemConfig(settings), HoconAddMode.Prepend)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
    }
}
