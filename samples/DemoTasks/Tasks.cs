using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClusterQueue.Client;

namespace ClusterQueue.Samples;

/// <summary>
/// The demo task library: the same names and signatures as the Python <c>tasks</c> module used in the interop tests,
/// so that either side can call the other.
/// </summary>
public static class Tasks
{
    private static readonly ConcurrentDictionary<string, int> FlakyFailures = new(StringComparer.Ordinal);

    [CeleryTask("tasks.add")]
    public static long Add(long x, long y) => x + y;

    [CeleryTask("tasks.mul")]
    public static long Mul(long x, long y) => x * y;

    [CeleryTask("tasks.xsum")]
    public static double XSum(List<double> numbers) => numbers.Sum();

    [CeleryTask("tasks.noop")]
    public static void Noop()
    {
    }

    /// <summary><c>echo(*args, **kwargs)</c>: returns <c>[args, kwargs]</c>.</summary>
    [CeleryTask("tasks.echo")]
    public static JsonArray Echo(TaskContext context) => [context.Args.DeepClone(), context.Kwargs.DeepClone()];

    /// <summary>Sleeps, and stops early when the task is cancelled (soft time limit, terminate, cold shutdown).</summary>
    [CeleryTask("tasks.sleep")]
    public static async Task<double> Sleep(double seconds, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        return seconds;
    }

    [CeleryTask("tasks.fail")]
    public static void Fail(string message) => throw new InvalidOperationException(message);

    /// <summary>Fails <paramref name="failures"/> times for <paramref name="key"/>, retrying itself after a short countdown, then succeeds.</summary>
    [CeleryTask("tasks.flaky", MaxRetries = 10)]
    public static string Flaky(string key, int failures, TaskContext context)
    {
        var failed = FlakyFailures.AddOrUpdate(key, 1, (_, count) => count + 1);
        if (failed <= failures)
        {
            throw context.Retry(
                countdown: TimeSpan.FromMilliseconds(200),
                exception: new InvalidOperationException($"flaky failure {failed} of {failures} for '{key}'"));
        }

        return $"{key} succeeded after {failures} failure{(failures == 1 ? "" : "s")}";
    }
}
