namespace ClusterQueue.Actors;

/// <summary>An immutable recipe for an actor: how to make an instance, and how it supervises its children.</summary>
public sealed class Props
{
    private Props(Type actorType, Func<ActorBase> factory, SupervisorStrategy? supervisorStrategy)
    {
        ActorType = actorType;
        Factory = factory;
        SupervisorStrategy = supervisorStrategy;
    }

    public Type ActorType { get; }

    /// <summary>Makes a fresh instance; called at start and at every restart.</summary>
    internal Func<ActorBase> Factory { get; }

    /// <summary>The strategy the actor applies to its children; null means the actor's own choice.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; }

    public static Props Create<TActor>()
        where TActor : ActorBase, new() => new(typeof(TActor), static () => new TActor(), null);

    public static Props Create<TActor>(Func<TActor> factory, SupervisorStrategy? supervisorStrategy = null)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(typeof(TActor), factory, supervisorStrategy);
    }

    public Props WithSupervisorStrategy(SupervisorStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return new Props(ActorType, Factory, strategy);
    }

    public override string ToString() => $"Props({ActorType.Name})";
}
