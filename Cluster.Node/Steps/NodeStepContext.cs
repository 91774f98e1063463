using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Steps;

/// <summary>The context a node gives one of its steps; its actors are children of the node supervisor.</summary>
internal sealed class NodeStepContext(NodeServices node, IActorRef supervisor, IConfiguration configuration, string stepName) : WorkerStepContext
{
    private static readonly TimeSpan SpawnTimeout = TimeSpan.FromSeconds(30);

    public override string NodeName => node.Name;

    public override ClusterQueueApp App => node.App;

    public override IReadOnlyList<string> Queues => node.Settings.Queues;

    public override int Concurrency => node.Concurrency;

    public override IConfiguration Configuration => configuration;

    public override ILoggerFactory LoggerFactory => node.Logging;

    public override ILogger Logger { get; } = node.Logging.CreateLogger($"ClusterQueue.Node.Steps.{stepName}");

    public override async Task<IActorRef> SpawnActorAsync(Props props, string name)
    {
        ArgumentNullException.ThrowIfNull(props);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        // Asked, not created here: only the supervisor may add its own children.
        var reply = await supervisor.Ask<SpawnedStepActor>(new SpawnStepActor(props, name), SpawnTimeout).ConfigureAwait(false);
        return reply.Failure is { } failure ? throw failure : reply.Actor!;
    }
}

/// <summary>A step asks the node supervisor to start an actor as its child; the reply is <see cref="SpawnedStepActor"/>.</summary>
internal sealed record SpawnStepActor(Props Props, string Name);

/// <summary>The actor started for a step, or why it could not be (a name taken or not valid).</summary>
internal sealed record SpawnedStepActor(IActorRef? Actor, Exception? Failure);

/// <summary>Tells the node supervisor to start one consumer per configured queue; sent once the steps have started.</summary>
internal sealed class StartConsumers
{
    public static readonly StartConsumers Instance = new();
}
