namespace ClusterQueue.Actors;

/// <summary>What an actor may do from inside its own handlers: reply, spawn and stop children, watch.</summary>
public interface IActorContext
{
    IActorRef Self { get; }

    /// <summary>Sender of the message being handled; dead letters when it was told without one.</summary>
    IActorRef Sender { get; }

    /// <summary>The supervisor; the root's parent is itself.</summary>
    IActorRef Parent { get; }

    ActorSystem System { get; }

    IReadOnlyCollection<IActorRef> Children { get; }

    /// <summary>Cancelled as soon as this actor is asked to stop, so long-running ReceiveAsync handlers can end.</summary>
    CancellationToken CancellationToken { get; }

    /// <summary>Creates a child; a null name picks a unique one starting with '$'.</summary>
    IActorRef ActorOf(Props props, string? name = null);

    IActorRef? Child(string name);

    /// <summary>Stops this actor or another one; its children stop first.</summary>
    void Stop(IActorRef actor);

    /// <summary>Asks for one <see cref="Terminated"/> when <paramref name="actor"/> stops, even if it already has.</summary>
    IActorRef Watch(IActorRef actor);

    IActorRef Unwatch(IActorRef actor);
}
