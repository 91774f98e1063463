using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>Props for the node's actors, made from a plain factory.</summary>
/// <remarks>
/// They run on Akka's default dispatcher, the .NET thread pool; every slot keeps a thread of its own reserved there
/// (<see cref="ThreadPoolReservation"/>), so blocking task methods leave threads for the actors.
/// </remarks>
internal static class NodeProps
{
    /// <summary>
    /// Akka's <c>Props.Create(() =&gt; new T(..))</c> compiles its expression's arguments on every call, which costs far
    /// more than the actor; executors are made again after every <c>max-tasks-per-child</c> tasks, so a factory is used.
    /// </summary>
    public static Props Of<T>(Func<T> create)
        where T : ActorBase =>
        Props.CreateBy(new Producer<T>(create));

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
