using System.Diagnostics;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using static ClusterQueue.Bench.Interop.AmqpInteropBenchmark;
using static ClusterQueue.Canvas.Workflow;

namespace ClusterQueue.Bench.Interop;

/// <summary>
/// What joining a chord costs per member: a chord of N <c>tasks.add</c> with a <c>tasks.xsum</c> body against a plain
/// group of the same N, on one RabbitMQ at <c>-c 2</c>. Our worker joins by counting in SQLite and in PostgreSQL (when
/// <c>CQ_BENCH_POSTGRES_URL</c> or <c>CQ_TEST_POSTGRES_URL</c> is set), and with Celery's chord_unlock polling on a
/// file:// store, as Python Celery does on every store but Redis; Python Celery's own worker runs the same chord there.
/// <c>dotnet run -c Release --project Cluster.Bench -- chord-join [--members N] [--no-python]</c>.
/// </summary>
public static class ChordJoinBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = BrokerUrl();
        var members = OneShotArguments.ReadInt(args, "--members", 1_000);
        var python = args.Contains("--no-python") ? null : PythonCeleryProcess.Find();
        var postgres = Environment.GetEnvironmentVariable("CQ_BENCH_POSTGRES_URL") is { Length: > 0 } bench ? bench
            : Environment.GetEnvironmentVariable("CQ_TEST_POSTGRES_URL");
        Console.WriteLine($"chord-join: {url}, {members:N0} members, concurrency {Concurrency}, {Environment.ProcessorCount} CPUs");

        var stores = new List<(string Label, string Backend)>
        {
            ("ours    sqlite  count ", "sqlite:///" + Path.Combine(Directory.CreateTempSubdirectory("cq-chord-bench-").FullName, "results.db")),
        };
        if (!string.IsNullOrEmpty(postgres))
        {
            stores.Add(("ours    postgres count", postgres));
        }

        stores.Add(("ours    file    unlock", FileStore()));
        foreach (var (label, backend) in stores)
        {
            await using var worker = await OurWorker.StartAsync(url, backend);
            Report(label, await MeasureAsync(url, backend, members));
        }

        if (python is null)
        {
            Console.WriteLine("python  skipped: no /usr/bin/python3 with celery (or --no-python)");
            return 0;
        }

        var store = FileStore();
        await using (await python.StartWorkerAsync(url, new Dictionary<string, string> { ["CQ_INTEROP_RESULT_BACKEND"] = store }))
        {
            Report("python  file    unlock", await MeasureAsync(url, store, members));
        }

        return 0;
    }

    private static void Report(string label, (TimeSpan Group, TimeSpan Chord, int Members) run) =>
        Console.WriteLine(
            $"{label}  group {run.Group.TotalMilliseconds,8:N0} ms  chord {run.Chord.TotalMilliseconds,8:N0} ms  " +
            $"join +{(run.Chord - run.Group).TotalMilliseconds,6:N0} ms = {(run.Chord - run.Group).TotalMilliseconds * 1000 / run.Members,6:N0} µs/member");

    /// <summary>A group, then a chord of the same size; each timed from its apply to its last result, after a small warm-up.</summary>
    private static async Task<(TimeSpan Group, TimeSpan Chord, int Members)> MeasureAsync(string url, string backend, int members)
    {
        await using var client = ClusterQueueApp.Open(
            new BrokerSettings { Url = url }, new ResultSettings { Backend = backend, PollingInterval = TimeSpan.FromMilliseconds(5) });
        var patience = TimeSpan.FromMinutes(10);
        await RunChordAsync(client, 10, patience);
        var clock = Stopwatch.StartNew();
        await (await client.ApplyGroupAsync(Group(Header(members)))).GetAsync(patience);
        var group = clock.Elapsed;
        var chord = await RunChordAsync(client, members, patience);
        return (group, chord, members);
    }

    private static async Task<TimeSpan> RunChordAsync(ClusterQueueApp client, int members, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        var sum = await (await client.ApplyAsync(Chord(Header(members), Task("tasks.xsum")))).GetAsync(patience);
        var elapsed = clock.Elapsed;
        var expected = members * (members - 1.0);
        return sum!.GetValue<double>() == expected ? elapsed : throw new InvalidOperationException($"the chord summed to {sum}, not {expected}");
    }

    private static IEnumerable<ClusterQueue.Protocol.Signature> Header(int members) => Enumerable.Range(0, members).Select(i => Task("tasks.add", i, i));

    private static string FileStore() => "file://" + Directory.CreateTempSubdirectory("cq-chord-bench-file-").FullName;

    private sealed class OurWorker(ClusterQueueApp app, WorkerNode node) : IAsyncDisposable
    {
        public static async Task<OurWorker> StartAsync(string url, string backend)
        {
            var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
            var app = ClusterQueueApp.Open(new BrokerSettings { Url = url }, new ResultSettings { Backend = backend }, tasks: tasks);
            var settings = new WorkerSettings { Concurrency = Concurrency, StateDb = OneShotArguments.TempStateDb("chord-bench") };
            return new OurWorker(app, await WorkerNode.StartAsync(settings, app));
        }

        public async ValueTask DisposeAsync()
        {
            await node.WarmShutdownAsync();
            await app.DisposeAsync();
        }
    }
}
