using System.Text;
using Akka.Actor;
using Akka.Pattern;
using ClusterQueue.Node.Steps;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// The root of a worker node's actor tree: <c>state</c>, <c>timers</c>, <c>pool</c> (the executors), the actors of
/// the user's bootsteps, and one backoff-supervised consumer per queue, started once the bootsteps have; <c>add_consumer</c>
/// and <c>cancel_consumer</c> add and remove consumers at run time.
/// </summary>
internal sealed class NodeSupervisor : ReceiveActor
{
    private static readonly TimeSpan MinReconnectDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConsumerStopTimeout = TimeSpan.FromSeconds(5);

    private readonly NodeServices _node;
    private IActorRef _pool = ActorRefs.Nobody;
    private IActorRef _timers = ActorRefs.Nobody;
    private readonly List<(string Queue, IActorRef Consumer)> _consumers = [];
    private int _consumerCount;
    private bool _stopping;

    public NodeSupervisor(NodeServices node)
    {
        _node = node;
        Receive<GetNodeChildren>(_ =>
        {
            // Asked at shutdown: no consumer is added after this.
            _stopping = true;
            Sender.Tell(new NodeChildren(_pool, _timers, [.. _consumers.Select(c => c.Consumer)]), Self);
        });
        Receive<StartConsumers>(_ =>
        {
            foreach (var queue in _node.Settings.Queues.Where(queue => !_stopping && _consumers.All(c => c.Queue != queue)))
            {
                StartConsumer(queue);
            }
        });
        Receive<SpawnStepActor>(spawn =>
        {
            try
            {
                Sender.Tell(new SpawnedStepActor(Context.ActorOf(spawn.Props, spawn.Name), null), Self);
            }
            catch (Exception e) when (e is InvalidActorNameException or ArgumentException)
            {
                Sender.Tell(new SpawnedStepActor(null, e), Self);
            }
        });
        Receive<ResizePool>(resize => _pool.Tell(resize, Sender));
        Receive<UpdateAutoscale>(update => _pool.Tell(update, Sender));
        Receive<GetAutoscaleState>(get => _pool.Tell(get, Sender));
        Receive<GetQueues>(_ => Sender.Tell(new QueuesChanged(false, Queues), Self));
        Receive<AddQueue>(add =>
        {
            var added = !_stopping && _consumers.All(c => c.Queue != add.Queue);
            if (added)
            {
                StartConsumer(add.Queue);
            }

            Sender.Tell(new QueuesChanged(added, Queues), Self);
        });
        ReceiveAsync<CancelQueue>(async cancel =>
        {
            var sender = Sender;
            var index = _consumers.FindIndex(c => c.Queue == cancel.Queue);
            if (index < 0)
            {
                sender.Tell(new QueuesChanged(false, Queues), Self);
                return;
            }

            var consumer = _consumers[index].Consumer;
            _consumers.RemoveAt(index);
            try
            {
                await consumer.Ask<ConsumerStopped>(StopConsuming.Instance, ConsumerStopTimeout);
            }
            catch (AskTimeoutException)
            {
                // Backing off after a fault, it holds nothing; stopping it below is enough.
            }

            // Stopping the consumer closes its lease, so the broker takes back what it held.
            Context.Stop(consumer);
            sender.Tell(new QueuesChanged(true, Queues), Self);
        });
    }

    private List<string> Queues => [.. _consumers.Select(c => c.Queue)];

    protected override void PreStart()
    {
        _node.State = Context.ActorOf(NodeProps.Of(() => new WorkerState()), "state");
        _timers = Context.ActorOf(NodeProps.Of(() => new TaskTimers(_node)), "timers");
        _pool = Context.ActorOf(NodeProps.Of(() => new TaskPool(_node, _timers)), "pool");
        if (_node.Settings.Autoreload)
        {
            var pool = _pool;
            Context.ActorOf(NodeProps.Of(() => new ClusterQueue.Node.Reload.TaskCodeWatcher(_node, pool)), "autoreload");
        }

        // The consumers wait for StartConsumers: the bootsteps start first, so a task can use what they prepare.
    }

    /// <summary>A restart comes after the start (the steps have run), so the consumers come back at once.</summary>
    protected override void PostRestart(Exception reason)
    {
        base.PostRestart(reason);
        Self.Tell(StartConsumers.Instance, Self);
    }

    private void StartConsumer(string queue)
    {
        var pool = _pool;
        var timers = _timers;
        var consumer = NodeProps.Of(() => new QueueConsumer(_node, queue, pool, timers));
        var backoff = Backoff.OnFailure(consumer, "consumer", MinReconnectDelay, MaxReconnectDelay, randomFactor: 0.2, maxNrOfRetries: -1)
            .WithAutoReset(TimeSpan.FromSeconds(30));
        // The running count keeps names unique when a queue is cancelled and added again.
        _consumers.Add((queue, Context.ActorOf(BackoffSupervisor.Props(backoff), $"queue-{_consumerCount++}-{ActorName(queue)}")));
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
