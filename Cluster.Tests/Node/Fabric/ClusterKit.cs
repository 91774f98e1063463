using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Fabric;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Amqp;
using ClusterQueue.Tests.Transport.Sqs;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>The brokers the cluster tests run on; each test gets a broker of its own.</summary>
public enum ClusterBroker
{
    Memory,
    Sqlite,
    Amqp,
    Sqs,
}

/// <summary>
/// One broker shared by several real worker nodes and a control client, as a cluster test needs: nodes started here
/// run the full start-up (cluster join, name check, mingle, pidbox, heartbeat) with a state db in a private directory,
/// and form one Akka cluster.
/// </summary>
public sealed class ClusterKit : IAsyncDisposable
{
    /// <summary>Generous, because the test machine is small and busy; a passing wait ends in milliseconds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<ClusterQueueApp> _apps = [];
    private readonly List<WorkerNode> _nodes = [];

    private ClusterKit(ClusterBroker kind, BrokerSettings broker)
    {
        Kind = kind;
        Broker = broker;
        Client = App().Transport is var transport ? new PidboxClient(transport, new ControlSettings { ReplyTimeout = TimeSpan.FromSeconds(5) }) : null!;
    }

    public ClusterBroker Kind { get; }

    /// <summary>The nodes started so far, in order.</summary>
    public IReadOnlyList<WorkerNode> StartedNodes
    {
        get
        {
            lock (_nodes) return [.. _nodes];
        }
    }

    public BrokerSettings Broker { get; }

    /// <summary>A private directory for state dbs.</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("cq-cluster-").FullName;

    /// <summary>A control client on its own connection, as <c>celery inspect</c> would be.</summary>
    public PidboxClient Client { get; }

    public static ClusterKit Create(ClusterBroker kind) => new(kind, kind switch
    {
        ClusterBroker.Memory => new BrokerSettings { Url = $"memory://cluster-{Guid.NewGuid():N}", PollingInterval = TimeSpan.FromMilliseconds(20) },
        ClusterBroker.Sqlite => new BrokerSettings
        {
            Url = $"sqlite:///{Path.Combine(System.IO.Directory.CreateTempSubdirectory("cq-cluster-broker-").FullName, "broker.db")}",
            PollingInterval = TimeSpan.FromMilliseconds(20),
        },
        ClusterBroker.Sqs => SqsTestServer.Settings(SqsTestServer.NewPrefix()),
        _ => AmqpTestBroker.Settings(AmqpTestBroker.NewVhost()),
    });

    /// <summary>A kit on a broker with settings of the test's own, such as a short SQS visibility timeout.</summary>
    public static ClusterKit Create(ClusterBroker kind, BrokerSettings broker) => new(kind, broker);

    /// <summary>Settings for a node named <paramref name="name"/>, with its state db in this kit's directory, mingle waiting 2 s.</summary>
    public WorkerSettings Settings(string name, int concurrency = 2) => new()
    {
        Name = name,
        Concurrency = concurrency,
        StateDb = Path.Combine(Directory, name.Replace('@', '-') + ".db"),
        Fabric = new NodeFabricSettings
        {
            // Long enough for a peer on a busy 2-core machine to answer; a lonely node waits this long at start.
            Mingle = new MingleSettings { Timeout = TimeSpan.FromSeconds(2) },
            Events = new EventsSettings { HeartbeatInterval = TimeSpan.FromSeconds(1) },
            Control = new ControlSettings { ReplyTimeout = TimeSpan.FromSeconds(5) },
        },
    };

    /// <summary>A new app (its own broker connection) with the demo and test tasks.</summary>
    public ClusterQueueApp App(Action<TaskRegistry>? register = null, ITransport? transport = null)
    {
        var tasks = WorkerHarness.Registry(register);
        var app = transport is null
            ? ClusterQueueApp.Open(Broker, new ResultSettings { Backend = "memory://" }, tasks: tasks)
            : new ClusterQueueApp(transport, ResultBackends.Open(new ResultSettings { Backend = "memory://" }), tasks);
        lock (_apps)
        {
            _apps.Add(app);
        }

        return app;
    }

    /// <summary>
    /// Starts a node on an app of its own; <paramref name="app"/> lets two nodes share a result store. Unless the
    /// settings name seeds, the node joins the Akka cluster of the kit's nodes through one that still runs.
    /// </summary>
    public async Task<WorkerNode> StartAsync(WorkerSettings settings, ClusterQueueApp? app = null, Microsoft.Extensions.Logging.ILoggerFactory? logging = null)
    {
        if (settings.Fabric.Cluster.Seeds.Count == 0 && Seed is { } seed)
        {
            settings = settings with { Fabric = settings.Fabric with { Cluster = settings.Fabric.Cluster with { Seeds = [seed] } } };
        }

        var node = await WorkerNode.StartAsync(settings, app ?? App(), logging).WaitAsync(Patience);
        lock (_nodes)
        {
            _nodes.Add(node);
        }

        return node;
    }

    public Task<WorkerNode> StartAsync(string name, int concurrency = 2) => StartAsync(Settings(name, concurrency));

    /// <summary>The remoting address of a kit node that still runs, for the next node to join through.</summary>
    public string? Seed
    {
        get
        {
            lock (_nodes)
            {
                return _nodes.FirstOrDefault(n => !n.Completion.IsCompleted) is { } live ? Akka.Cluster.Cluster.Get(live.ActorSystem).SelfAddress.ToString() : null;
            }
        }
    }

    /// <summary>A control client on the cluster carrier, publishing from inside <paramref name="member"/>.</summary>
    public static ClusterQueue.Fabric.ClusterPlane.ClusterControlClient ClusterClient(WorkerNode member) =>
        ClusterQueue.Fabric.ClusterPlane.ClusterControlClient.ForMember(member.ActorSystem, new ControlSettings { ReplyTimeout = Patience });

    /// <summary>The single reply of <paramref name="node"/> to an inspect command.</summary>
    public async Task<JsonNode?> InspectAsync(string node, string method, JsonObject? arguments = null)
    {
        var replies = await Client.BroadcastAsync(method, arguments ?? ControlCommands.InspectArguments(method), ControlTarget.Nodes(node), limit: 1, timeout: Patience);
        var reply = Assert.Single(replies);
        Assert.Equal(node, reply.Node);
        return reply.Value;
    }

    /// <summary>Broadcasts <c>revoke</c> and returns once <paramref name="expectedReplies"/> nodes answered.</summary>
    public Task<IReadOnlyList<ControlReply>> RevokeAsync(string taskId, int expectedReplies, bool terminate = false) =>
        Client.BroadcastAsync("revoke", new RevokeArguments([taskId], terminate).ToJson(), limit: expectedReplies, timeout: Patience);

    /// <summary>Completes with the first task event of <paramref name="node"/> that matches; subscribe before sending the task.</summary>
    public static Task<TaskLifecycleEvent> WhenAsync(WorkerNode node, string taskId, TaskEventKind kind)
    {
        var done = new TaskCompletionSource<TaskLifecycleEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Watch(TaskLifecycleEvent e)
        {
            if (e.TaskId == taskId && e.Kind == kind) done.TrySetResult(e);
        }

        node.TaskEvent += Watch;
        return done.Task.WaitAsync(Patience);
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails naming <paramref name="what"/>.</summary>
    public static Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WorkerHarness.EventuallyAsync(condition, what, timeout ?? Patience);

    /// <summary>An event receiver on <paramref name="routingKey"/>, started.</summary>
    public async Task<EventReceiver> ReceiveEventsAsync(string routingKey = "#")
    {
        var receiver = new EventReceiver(App().Transport, routingKey);
        await receiver.StartAsync();
        return receiver;
    }

    /// <summary>Reads events until one matches, or fails after <see cref="Patience"/>.</summary>
    public static async Task<ClusterEvent> NextAsync(EventReceiver receiver, Func<ClusterEvent, bool> match, string what)
    {
        using var limit = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var received = await receiver.Events.ReadAsync(limit.Token);
                if (match(received.Event)) return received.Event;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {what} within {Patience}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await Client.DisposeAsync();
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }
}
