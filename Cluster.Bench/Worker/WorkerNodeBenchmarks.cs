using BenchmarkDotNet.Attributes;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Samples;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Worker;

/// <summary>
/// A running worker node on the memory broker: one tasks.add from send to stored result, and a burst of 100 sent
/// together, per pool size. Measures the actor pipeline (consume, decode, pool, execute, store, ack), not a broker.
/// </summary>
[MemoryDiagnoser]
public class WorkerNodeBenchmarks
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ClusterQueueApp app = null!;
    private WorkerNode node = null!;

    [Params(1, 4)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Tasks).Assembly);
        app = ClusterQueueApp.Open(
            new BrokerSettings { Url = $"memory://bench-{Guid.NewGuid():N}" },
            new ResultSettings { Backend = "memory://" },
            tasks: tasks);
        node = await WorkerNode.StartAsync(new WorkerSettings { Concurrency = Concurrency, StateDb = "" }, app);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await node.WarmShutdownAsync();
        await app.DisposeAsync();
    }

    [Benchmark]
    public async Task<TaskResult> RoundTrip()
    {
        var sent = await app.ApplyAsync("tasks.add", [1, 2]);
        return await app.Results.WaitAsync(sent.Id, Patience);
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public async Task Burst100()
    {
        var sent = new AsyncResult[100];
        for (var i = 0; i < sent.Length; i++)
        {
            sent[i] = await app.ApplyAsync("tasks.add", [i, 1]);
        }

        foreach (var result in sent)
        {
            await app.Results.WaitAsync(result.Id, Patience);
        }
    }
}
