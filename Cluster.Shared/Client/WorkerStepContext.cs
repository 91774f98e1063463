using Akka.Actor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Client;

/// <summary>What a worker gives an <see cref="IWorkerStep"/> when it starts: the node, its app and configuration, logging, and a place for actors.</summary>
/// <remarks>Abstract so that a user's own tests can hand a step a context of their making.</remarks>
public abstract class WorkerStepContext
{
    /// <summary>The resolved node name, e.g. <c>celery@host</c>.</summary>
    public abstract string NodeName { get; }

    /// <summary>The app the worker takes tasks from: its broker, result backend and task registry.</summary>
    public abstract ClusterQueueApp App { get; }

    /// <summary>The queues the worker consumes once the steps have started.</summary>
    public abstract IReadOnlyList<string> Queues { get; }

    /// <summary>Pool slots at start.</summary>
    public abstract int Concurrency { get; }

    /// <summary>The configuration the worker was started with (its <c>--config</c> file, <c>CQ_</c> variables and flags); empty when the host gave none.</summary>
    public abstract IConfiguration Configuration { get; }

    public abstract ILoggerFactory LoggerFactory { get; }

    /// <summary>A logger named after the step.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>
    /// Starts an actor as a child of the node supervisor (<c>/user/node/{name}</c>), so that it is supervised like the
    /// node's own actors and stopped with the node, after the steps' <see cref="IWorkerStep.StopAsync"/>.
    /// </summary>
    /// <exception cref="InvalidActorNameException">The name is taken or not a valid actor name.</exception>
    public abstract Task<IActorRef> SpawnActorAsync(Props props, string name);
}
