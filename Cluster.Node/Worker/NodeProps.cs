using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>Props for the node's actors: made from a plain factory, on the node's own dispatcher.</summary>
internal static class NodeProps
{
    /// <summary>
    /// The dispatcher every actor of a node runs on: dedicated threads, so task bodies, which run on the .NET thread pool,
    /// can never starve the actors that consume, dispatch and settle messages. Defined in reference.conf's <c>akka</c> section.
    /// </summary>
    public const string Dispatcher = "akka.actor.cluster-queue-node-dispatcher";

    /// <summary>
    /// Akka's <c>Props.Create(() =&gt; new T(..))</c> compiles its expression's arguments on every call, which costs far
    /// more than the actor; executors are made again after every <c>max-tasks-per-child</c> tasks, so a factory is used.
    /// </summary>
    public static Props Of<T>(Func<T> create)
        where T : ActorBase =>
        Props.CreateBy(new Producer<T>(create)).WithDispatcher(Dispatcher);

    private sealed class Producer<T>(Func<T> create) : IIndirectActorProducer
        where T : ActorBase
    {
        public Type ActorType => typeof(T);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }
}
