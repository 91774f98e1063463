using System.Text;
using ClusterQueue.Actors;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// The root of a worker node's actor tree: <c>state</c>, <c>timers</c>, <c>pool</c> (the executors) and one
/// backoff-supervised consumer per queue. Remote control and events will join as siblings.
/// </summary>
internal sealed class NodeSupervisor : ReceiveActor
{
    private static readonly TimeSpan MinReconnectDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(10);

    private readonly NodeServices _node;
    private IActorRef _pool = ActorRefs.Nobody;
    private IActorRef _timers = ActorRefs.Nobody;
    private readonly List<IActorRef> _consumers = [];

    public NodeSupervisor(NodeServices node)
    {
        _node = node;
        Receive<GetNodeChildren>(_ => Sender.Tell(new NodeChildren(_pool, _timers, _consumers), Self));
    }

    protected override void PreStart()
    {
        _node.State = Context.ActorOf(Props.Create(() => new WorkerState()), "state");
        _timers = Context.ActorOf(Props.Create(() => new TaskTimers(_node)), "timers");
        _pool = Context.ActorOf(Props.Create(() => new TaskPool(_node, _timers)), "pool");
        for (var i = 0; i < _node.Settings.Queues.Count; i++)
        {
            var queue = _node.Settings.Queues[i];
            var pool = _pool;
            var timers = _timers;
            var consumer = Props.Create(() => new QueueConsumer(_node, queue, pool, timers));
            var backoff = BackoffOptions.CreateOnFailure(consumer, "consumer", MinReconnectDelay, MaxReconnectDelay, randomFactor: 0.2)
                .WithAutoReset(TimeSpan.FromSeconds(30));
            _consumers.Add(Context.ActorOf(BackoffSupervisor.Props(backoff), $"queue-{i}-{ActorName(queue)}"));
        }
    }

    /// <summary>Queue names may hold characters an actor path does not; the index keeps the names unique.</summary>
    private static string ActorName(string queue)
    {
        var name = new StringBuilder(queue.Length);
        foreach (var c in queue)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return name.ToString();
    }
}
