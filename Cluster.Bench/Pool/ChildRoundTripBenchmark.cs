using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterQueue.Node.Pool;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Bench.Pool;

/// <summary>
/// The prefork pool's own cost per task: one child process running <c>tasks.noop</c> frames back to back over its
/// socket, with no broker or actor in the way.
/// <c>dotnet run -c Release --project Cluster.Bench -- child-round-trip [--tasks N]</c>.
/// </summary>
public static class ChildRoundTripBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = OneShotArguments.ReadInt(args, "--tasks", 20_000);
        await using var child = ChildProcess.Start(null, NullLogger.Instance);
        await child.Ready;
        for (var i = 0; i < count / 10; i++)
        {
            await RunNoopAsync(child);
        }

        var samples = new double[count];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await RunNoopAsync(child);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var rate = count / clock.Elapsed.TotalSeconds;
        Array.Sort(samples);
        Console.WriteLine($"child round trip  {count:N0} x tasks.noop  {rate,8:N0} tasks/s  p50 {samples[count / 2],7:F1} µs  p99 {samples[(int)(count * 0.99)],7:F1} µs");
        return 0;
    }

    private static async Task RunNoopAsync(ChildProcess child)
    {
        var done = await child.RunAsync(new JsonObject { ["op"] = "run", ["id"] = "bench", ["task"] = "tasks.noop", ["args"] = new JsonArray(), ["kwargs"] = new JsonObject() }, CancellationToken.None);
        if ((string?)done["status"] != "success")
        {
            throw new InvalidOperationException($"tasks.noop in the child: {done.ToJsonString()}");
        }
    }
}
