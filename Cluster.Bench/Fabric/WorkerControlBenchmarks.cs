using System.Text.Json.Nodes;
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
/// Remote control of a running worker node on the memory broker, from request to reply: ping (mailbox only), stats
/// (counters and process info), active (a query to the node's state actor) and revoke (a write-through to the SQLite state db).
/// </summary>
[MemoryDiagnoser]
public class WorkerControlBenchmarks
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private string directory = null!;
    private ClusterQueueApp app = null!;
    private WorkerNode node = null!;
    private PidboxClient client = null!;
    private ControlTarget target = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        directory = Directory.CreateTempSubdirectory("cq-bench-control-").FullName;
        app = ClusterQueueApp.Open(
            new BrokerSettings { Url = $"memory://bench-{Guid.NewGuid():N}" },
            new ResultSettings { Backend = "memory://" },
            tasks: new TaskRegistry().RegisterAssembly(typeof(Tasks).Assembly));
        node = await WorkerNode.StartAsync(
            new WorkerSettings
            {
                Name = "bench@control",
                Concurrency = 2,
                StateDb = Path.Combine(directory, "state.db"),
                Fabric = new NodeFabricSettings { Mingle = new MingleSettings { Enabled = false } },
            },
            app);
        client = new PidboxClient(app.Transport);
        target = ControlTarget.Nodes(node.Name);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await client.DisposeAsync();
        await node.WarmShutdownAsync();
        await app.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<JsonNode?> Ping() => AskAsync("ping", []);

    [Benchmark]
    public Task<JsonNode?> Stats() => AskAsync("stats", []);

    [Benchmark]
    public Task<JsonNode?> Active() => AskAsync("active", new ActiveArguments().ToJson());

    [Benchmark]
    public Task<JsonNode?> Revoke() => AskAsync("revoke", new RevokeArguments([Guid.NewGuid().ToString()]).ToJson());

    private async Task<JsonNode?> AskAsync(string method, JsonObject arguments)
    {
        var replies = await client.BroadcastAsync(method, arguments, target, timeout: Patience, limit: 1);
        return replies.Count == 1 ? replies[0].Value : throw new InvalidOperationException($"{method}: no reply from {node.Name}");
    }
}
