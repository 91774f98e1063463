using ClusterQueue.Client;
using ClusterQueue.Node.Steps;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ClusterQueue.Node.Hosting;

/// <summary>Configures a worker node hosted in a Generic Host: its settings, the app it takes tasks and the broker from, and its bootsteps.</summary>
public sealed class WorkerBuilder
{
    /// <summary>The node's settings; <see cref="WorkerSettings.Validate"/> runs when the host starts.</summary>
    public WorkerSettings Settings { get; set; } = new();

    /// <summary>Makes the app; by default the <see cref="ClusterQueueApp"/> registered in the container.</summary>
    internal Func<IServiceProvider, ClusterQueueApp> AppFactory { get; private set; } = services => services.GetRequiredService<ClusterQueueApp>();

    /// <summary>The bootsteps, made when the host starts, in the order added (their requirements come first).</summary>
    internal List<Func<IServiceProvider, IWorkerStep>> StepFactories { get; } = [];

    /// <summary>What the steps see as <see cref="WorkerStepContext.Configuration"/>; none by default.</summary>
    internal IConfiguration? StepConfiguration { get; private set; }

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

    /// <summary>Adds a bootstep instance.</summary>
    public WorkerBuilder AddStep(IWorkerStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        StepFactories.Add(_ => step);
        return this;
    }

    /// <summary>Adds a bootstep made from the container when the host starts, so its constructor can take services.</summary>
    public WorkerBuilder AddStep<TStep>()
        where TStep : class, IWorkerStep
    {
        StepFactories.Add(services => ActivatorUtilities.CreateInstance<TStep>(services));
        return this;
    }

    /// <summary>Gives the bootsteps <paramref name="configuration"/> (e.g. the host's) as <see cref="WorkerStepContext.Configuration"/>.</summary>
    public WorkerBuilder WithStepConfiguration(IConfiguration configuration)
    {
        StepConfiguration = configuration ?? throw new ArgumentNullException(nameof(configuration));
        return this;
    }

    /// <summary>The steps in start order.</summary>
    /// <exception cref="WorkerStepConfigException">They cannot be ordered; the message names the steps.</exception>
    internal WorkerSteps BuildSteps(IServiceProvider services) =>
        StepFactories.Count == 0 && StepConfiguration is null
            ? WorkerSteps.None
            : WorkerSteps.Order(StepFactories.Select(create => create(services)), StepConfiguration);
}
