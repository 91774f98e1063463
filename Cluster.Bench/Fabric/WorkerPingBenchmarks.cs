using BenchmarkDotNet.Attributes;
using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Fabric;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Samples;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Fabric;

/// <summary>
/// A ping broadcast to 1, 10 and 50 running worker nodes on one memory broker and in one Akka cluster, timed until every
/// reply is in: over the broker's pidbox, over the cluster carrier from a process outside the cluster (ClusterClient,
/// as the CLI reaches it), and through the <c>status</c> command on the pidbox, which also opens and closes its own
/// broker connection and reply queue.
/// </summary>
[MemoryDiagnoser]
public class WorkerPingBenchmarks
{
    private readonly List<(ClusterQueueApp App, WorkerNode Node)> workers = [];
    private string brokerUrl = null!;
    private ITransport transport = null!;
    private PidboxClient client = null!;
    private ClusterQueue.Fabric.ClusterPlane.ClusterControlClient clusterClient = null!;

    [Params(1, 10, 50)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        brokerUrl = $"memory://bench-ping-{Guid.NewGuid():N}";
        var broker = new BrokerSettings { Url = brokerUrl };
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Tasks).Assembly);
        for (var i = 0; i < Nodes; i++)
        {
            var app = ClusterQueueApp.Open(broker, new ResultSettings { Backend = "memory://" }, tasks: tasks);

            // Fifty nodes starting in turn would each wait out mingle and the name check; neither is what is measured.
            var settings = new WorkerSettings
            {
                Name = $"node{i}@bench",
                Concurrency = 1,
                StateDb = "",
                Fabric = new NodeFabricSettings
                {
                    Mingle = new MingleSettings { Enabled = false },
                    Cluster = new ClusterQueue.Fabric.ClusterPlane.ClusterSettings { Seeds = workers.Count == 0 ? [] : [Seed] },
                },
            };
            workers.Add((app, await WorkerNode.StartAsync(settings, app)));
        }

        transport = TransportRegistry.CreateDefault().Open(broker);
        client = new PidboxClient(transport);
        clusterClient = await ClusterQueue.Fabric.ClusterPlane.ClusterControlClient.ConnectAsync(
            new ClusterQueue.Fabric.ClusterPlane.ClusterSettings { Seeds = [Seed] }, new ControlSettings(), ClusterQueue.Config.AkkaConfiguration.Reference, TimeSpan.FromSeconds(10));

        // Subscriptions spread by gossip: wait until every node answers on both carriers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await clusterClient.PingAsync(timeout: TimeSpan.FromSeconds(2), limit: Nodes)).Count < Nodes)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("not every node answers over the cluster");
        }

        await PingAll();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await client.DisposeAsync();
        await clusterClient.DisposeAsync();
        await transport.DisposeAsync();
        foreach (var (app, node) in workers)
        {
            await node.WarmShutdownAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>One broadcast from a connected client; returns when all <see cref="Nodes"/> replies are in.</summary>
    [Benchmark]
    public async Task<int> PingAll()
    {
        var replies = await client.PingAsync(timeout: TimeSpan.FromSeconds(30), limit: Nodes);
        return replies.Count == Nodes ? replies.Count : throw new InvalidOperationException($"only {replies.Count} of {Nodes} nodes replied");
    }

    /// <summary>One broadcast over the cluster carrier from outside the cluster; returns when all <see cref="Nodes"/> replies are in.</summary>
    [Benchmark]
    public async Task<int> PingAllOverCluster()
    {
        var replies = await clusterClient.PingAsync(timeout: TimeSpan.FromSeconds(30), limit: Nodes);
        return replies.Count == Nodes ? replies.Count : throw new InvalidOperationException($"only {replies.Count} of {Nodes} nodes replied over the cluster");
    }

    private string Seed => Akka.Cluster.Cluster.Get(workers[0].Node.ActorSystem).SelfAddress.ToString();

    /// <summary><c>Cluster.Node status</c> in process, naming every node so it ends at the last reply.</summary>
    [Benchmark]
    public async Task<int> StatusCommand()
    {
        var destination = string.Join(',', workers.Select(w => w.Node.Name));
        var output = new StringWriter();
        var exitCode = await ClusterQueue.Node.NodeCommandLine.InvokeAsync(
            ["status", "-d", destination, "-t", "30", "--broker", brokerUrl],
            new System.CommandLine.InvocationConfiguration { Output = output, Error = output });
        return exitCode == 0 ? exitCode : throw new InvalidOperationException($"status exited {exitCode}: {output}");
    }
}
