using System.Diagnostics;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Worker;

/// <summary>
/// Drains a queue pre-filled with <c>tasks.noop</c> messages, once with a bare consume-and-ack loop and once with a
/// worker node, on the same transport in the same run, and reports the worker's rate as a share of the raw one
/// together with its memory when idle and under load. A one-shot drain does not fit BenchmarkDotNet's repeated
/// invocations, so this is a plain Stopwatch runner: <c>dotnet run -c Release --project Cluster.Bench -- worker-drain</c>.
/// Both drains are timed from their first delivery to their last completion, after a warm-up drain of each kind, so
/// the figures are steady-state rates: a node's start-up (including mingle's 1 s wait) and the JIT are not in them.
/// </summary>
public static class WorkerDrainBenchmark
{
    private const string Queue = "celery";

    /// <summary>
    /// Runs the drain on each transport named in <paramref name="args"/>: <c>--memory N</c>, <c>--sqlite N</c>,
    /// <c>--concurrency N</c>, <c>--warmup N</c> (messages drained first on a throwaway memory broker, 10,000 by default).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var memoryCount = OneShotArguments.ReadInt(args, "--memory", 100_000);
        var sqliteCount = OneShotArguments.ReadInt(args, "--sqlite", 100_000);
        var concurrency = OneShotArguments.ReadInt(args, "--concurrency", Environment.ProcessorCount);
        var warmup = OneShotArguments.ReadInt(args, "--warmup", 10_000);
        Console.WriteLine($"worker-drain: tasks.noop, no result backend, concurrency {concurrency}, prefetch multiplier 4, {Environment.ProcessorCount} CPUs, warm-up {warmup:N0}");
        if (warmup > 0)
        {
            await RunTransportAsync(null, () => "memory://drain-warmup-" + Guid.NewGuid().ToString("N"), warmup, concurrency).ConfigureAwait(false);
        }

        var directory = Directory.CreateTempSubdirectory("cq-drain-bench-").FullName;
        try
        {
            if (memoryCount > 0)
            {
                await RunTransportAsync("memory", () => "memory://drain-" + Guid.NewGuid().ToString("N"), memoryCount, concurrency).ConfigureAwait(false);
            }

            if (sqliteCount > 0)
            {
                await RunTransportAsync("sqlite", () => "sqlite:///" + Path.Combine(directory, Guid.NewGuid().ToString("N") + ".db"), sqliteCount, concurrency).ConfigureAwait(false);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }

        return 0;
    }

    /// <summary>Drains raw and with a worker; a null <paramref name="label"/> is the warm-up, which prints nothing.</summary>
    private static async Task RunTransportAsync(string? label, Func<string> newBrokerUrl, int count, int concurrency)
    {
        var prefetch = concurrency * 4;
        var rawUrl = newBrokerUrl();
        var fill = await PrefillAsync(rawUrl, count).ConfigureAwait(false);
        var raw = await DrainRawAsync(rawUrl, count, prefetch).ConfigureAwait(false);

        var workerUrl = newBrokerUrl();
        await PrefillAsync(workerUrl, count).ConfigureAwait(false);
        var (worker, idle, peak) = await DrainWithWorkerAsync(workerUrl, count, concurrency).ConfigureAwait(false);

        if (label is null)
        {
            return;
        }

        var rawRate = count / raw.TotalSeconds;
        var workerRate = count / worker.TotalSeconds;
        Console.WriteLine($"{label,-7} {count,7:N0} msgs  prefill {count / fill.TotalSeconds,9:N0} msg/s  raw consume+ack {rawRate,9:N0} msg/s  worker {workerRate,9:N0} msg/s  worker/raw {workerRate / rawRate,6:P0}");
        Console.WriteLine($"{"",-7} worker memory: idle {idle}  |  under load (peak) {peak}");
    }

    private static async Task<TimeSpan> PrefillAsync(string url, int count)
    {
        await using var app = ClusterQueueApp.Open(new BrokerSettings { Url = url });
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await app.SendTaskAsync("tasks.noop", options: new SendOptions { IgnoreResult = true }).ConfigureAwait(false);
        }

        return clock.Elapsed;
    }

    /// <summary>The floor to compare against: take, ack, nothing else.</summary>
    private static async Task<TimeSpan> DrainRawAsync(string url, int count, int prefetch)
    {
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = url });
        Stopwatch? clock = null;
        var consumer = await transport.ConsumeAsync(Queue, new ConsumeOptions(Prefetch: prefetch)).ConfigureAwait(false);
        await using (consumer.ConfigureAwait(false))
        {
            for (var done = 0; done < count; done++)
            {
                var delivery = await consumer.Deliveries.ReadAsync().ConfigureAwait(false);
                clock ??= Stopwatch.StartNew();
                await consumer.AckAsync(delivery).ConfigureAwait(false);
            }
        }

        return clock!.Elapsed;
    }

    private static async Task<(TimeSpan Elapsed, MemoryFigure Idle, MemoryFigure Peak)> DrainWithWorkerAsync(string url, int count, int concurrency)
    {
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        await using var app = ClusterQueueApp.Open(new BrokerSettings { Url = url }, tasks: tasks);
        var finished = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peak = MemoryFigure.Zero;
        using var sampling = new CancellationTokenSource();

        var clock = new Stopwatch();
        var settings = new WorkerSettings { Concurrency = concurrency, StateDb = OneShotArguments.TempStateDb("drain") };
        // Subscribed at start: the node consumes at once, and a handler added afterwards could miss the first tasks.
        var worker = await WorkerNode.StartAsync(settings, app, logging: null, observer: e =>
        {
            if (e.Kind is TaskEventKind.Received && !clock.IsRunning)
            {
                // Only the consumer raises received, one message at a time, so this starts the clock once.
                clock.Start();
            }

            if (e.Kind is TaskEventKind.Succeeded or TaskEventKind.Failed && Interlocked.Increment(ref finished) == count)
            {
                drained.TrySetResult();
            }
        }, CancellationToken.None).ConfigureAwait(false);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = MemoryFigure.Max(peak, MemoryFigure.Now());
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }
        });
        await drained.Task.ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        // Idle: the queue is empty, the node still runs and polls; measured after a full collection.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var idle = MemoryFigure.Now();
        await worker.WarmShutdownAsync().ConfigureAwait(false);
        return (elapsed, idle, peak);
    }

    /// <summary>The process's resident set and the managed heap at one moment.</summary>
    private readonly record struct MemoryFigure(long WorkingSet, long ManagedHeap)
    {
        public static MemoryFigure Zero => new(0, 0);

        public static MemoryFigure Now()
        {
            using var process = Process.GetCurrentProcess();
            return new MemoryFigure(process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
        }

        public static MemoryFigure Max(MemoryFigure a, MemoryFigure b) =>
            new(Math.Max(a.WorkingSet, b.WorkingSet), Math.Max(a.ManagedHeap, b.ManagedHeap));

        public override string ToString() => $"RSS {WorkingSet / 1048576.0:0.0} MiB, managed heap {ManagedHeap / 1048576.0:0.0} MiB";
    }
}
