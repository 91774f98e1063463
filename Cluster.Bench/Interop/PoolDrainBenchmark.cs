using static ClusterQueue.Bench.Interop.AmqpInteropBenchmark;

namespace ClusterQueue.Bench.Interop;

/// <summary>
/// The two pools against each other and against Python Celery's prefork pool, all at <c>-c 2</c> on the same RabbitMQ
/// queue, in one run: the drain of a queue pre-filled with <c>tasks.noop</c> (the per-task cost of the pool) and with
/// <c>tasks.sleep(0.01)</c> (a task that waits, where both pools are bound by the 10 ms). The raw consume+ack loop
/// is the floor for the noop drain.
/// <c>dotnet run -c Release --project Cluster.Bench -- pool-drain [--noop N] [--sleep N] [--no-python]</c>.
/// </summary>
public static class PoolDrainBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = BrokerUrl();
        var noop = OneShotArguments.ReadInt(args, "--noop", 20_000);
        var sleep = OneShotArguments.ReadInt(args, "--sleep", 2_000);
        var python = args.Contains("--no-python") ? null : PythonCeleryProcess.Find();
        Console.WriteLine($"pool-drain: {url}, concurrency {Concurrency}, {Environment.ProcessorCount} CPUs");

        var raw = await DrainRawAsync(url, noop);
        Console.WriteLine($"raw     consume+ack                {raw,8:N0} msg/s");
        foreach (var (label, count, task) in new[] { ("noop", noop, new PrefillTask("tasks.noop")), ("sleep", sleep, new PrefillTask("tasks.sleep", 0.01)) })
        {
            var threads = await DrainWithOurWorkerAsync(url, count, task, "threads");
            var prefork = await DrainWithOurWorkerAsync(url, count, task, "prefork");
            var line = $"{label,-7} {count,7:N0} {task.Name,-12} threads {threads,8:N0} msg/s  prefork {prefork,8:N0} msg/s  prefork/threads {prefork / threads,6:P0}";
            if (python is not null)
            {
                var celery = await DrainWithPythonAsync(url, python, count, task);
                line += $"  python prefork {celery,8:N0} msg/s  prefork/python {prefork / celery,5:F2}x";
            }

            Console.WriteLine(line);
        }

        if (python is null)
        {
            Console.WriteLine("python  skipped: no /usr/bin/python3 with celery (or --no-python)");
        }

        return 0;
    }
}
