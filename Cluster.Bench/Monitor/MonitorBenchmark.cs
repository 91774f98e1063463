using System.Diagnostics;
using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Http;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Monitor.State;
using ClusterQueue.Monitor.Stream;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Bench.Monitor;

/// <summary>
/// The monitor's two figures, one-shot: how many task events a second its state folds in (decoding the batch bodies
/// the event topic carries, then state and hub), and the delay from a worker's event to a client of the SSE stream,
/// p50/p99, on one host: <c>dotnet run -c Release --project Cluster.Bench -- monitor [--events N] [--round-trips N]</c>.
/// </summary>
public static class MonitorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = OneShotArguments.ReadInt(args, "--events", 1_000_000);
        var trips = OneShotArguments.ReadInt(args, "--round-trips", 500);
        Console.WriteLine($"monitor: {count:N0} task events (received, started, succeeded per task), max-tasks 10,000, {Environment.ProcessorCount} CPUs");
        Ingest(count);
        await EndToEndAsync(trips);
        return 0;
    }

    /// <summary>Bodies as workers send them (task.multi batches of 100), decoded and folded as the topic subscriber does.</summary>
    private static void Ingest(int count)
    {
        var bodies = new List<ReadOnlyMemory<byte>>();
        var batch = new List<ClusterEvent>(100);
        for (var i = 0; bodies.Count * 100 + batch.Count < count; i++)
        {
            var id = $"task-{i}";
            batch.Add(new TaskReceivedEvent(id, "tasks.add", "(2, 2)", "{}") { Hostname = "w@bench", Timestamp = i });
            batch.Add(new TaskStartedEvent(id) { Hostname = "w@bench", Timestamp = i });
            batch.Add(new TaskSucceededEvent(id, "4", 0.001) { Hostname = "w@bench", Timestamp = i });
            if (batch.Count >= 99)
            {
                bodies.Add(EventCodec.EncodeBatch(batch, "w@bench").Body);
                batch.Clear();
            }
        }

        var state = new MonitorState(10_000);
        var hub = new EventHub(nameOf: id => state.Task(id)?.Name);
        using var subscriber = hub.Subscribe(new EventFilter(Types: ["task-failed"]));
        var clock = Stopwatch.StartNew();
        long folded = 0;
        foreach (var body in bodies)
        {
            foreach (var evt in EventCodec.DecodeBody(body))
            {
                state.Apply(evt);
                hub.Publish(evt);
                folded++;
            }
        }

        var rate = folded / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"ingest  {folded,9:N0} events  {rate,10:N0} events/s  (decode + state + hub with one filtered subscriber; goal 100,000)");
    }

    /// <summary>A worker node and a monitor in one cluster; each task.add's task-succeeded timed from its event timestamp to the SSE client.</summary>
    private static async Task EndToEndAsync(int trips)
    {
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        await using var app = ClusterQueueApp.Open(new BrokerSettings { Url = $"memory://monitor-bench-{Guid.NewGuid():N}" }, new ResultSettings { Backend = "memory://" }, tasks: tasks);
        var worker = await WorkerNode.StartAsync(
            new WorkerSettings { Concurrency = 2, SendTaskEvents = true, StateDb = OneShotArguments.TempStateDb("monitor-bench") }, app);
        var seed = Akka.Cluster.Cluster.Get(worker.ActorSystem).SelfAddress.ToString();
        var settings = new MonitorSettings { Listen = "127.0.0.1:0", StateDb = "" };
        await using var monitor = await MonitorNode.StartAsync(
            settings, new ClusterSettings { Seeds = [seed] }, ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        await using var api = await MonitorApi.StartAsync(monitor, settings, NullLoggerFactory.Instance);
        using var client = new MonitorClient(new Uri(api.Urls.First()));
        await using var stream = client.SubscribeAsync(new MonitorSubscription(Types: ["task-succeeded"])).GetAsyncEnumerator();

        // Warm up until the subscription has gossiped to the worker and events flow.
        var next = stream.MoveNextAsync().AsTask();
        while (!next.IsCompleted)
        {
            var warm = await app.ApplyAsync("tasks.add", [0, 0]);
            await app.Results.WaitAsync(warm.Id, TimeSpan.FromSeconds(30));
            await Task.WhenAny(next, Task.Delay(200));
        }

        await next;
        var delays = new List<double>(trips);
        for (var i = 0; i < trips; i++)
        {
            var sent = await app.ApplyAsync("tasks.add", [i, i]);
            while (true)
            {
                if (!await stream.MoveNextAsync())
                {
                    throw new InvalidOperationException("the event stream ended");
                }

                if (stream.Current.Event is TaskSucceededEvent succeeded && succeeded.Uuid == sent.Id)
                {
                    var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                    delays.Add((now - succeeded.Timestamp) * 1000);
                    break;
                }
            }
        }

        delays.Sort();
        Console.WriteLine(
            $"sse     {trips,9:N0} x task-succeeded  worker event -> SSE client p50 {delays[delays.Count / 2],6:F2} ms  p99 {delays[(int)(delays.Count * 0.99)],6:F2} ms");
        await worker.WarmShutdownAsync();
    }
}
