using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Results;

namespace ClusterQueue.Node.Demo;

/// <summary>One task the demo sends, with the state and value it must end with.</summary>
public sealed record DemoTask(string Name, JsonArray Args, SendOptions Options, string ExpectedState, JsonNode? ExpectedResult);

/// <summary>
/// The demo's mixed workload: adds, muls and xsums, a few failing and flaky (retrying) tasks, some countdowns, and a
/// burst of a rate-limited task, in a fixed order so every run is the same.
/// </summary>
public static class DemoWorkload
{
    /// <summary>The demo-only task that carries a rate limit, registered on both demo nodes.</summary>
    public const string LimitedTask = "demo.limited";

    /// <summary>Per node, as Celery's rate limits are.</summary>
    public const string LimitedRate = "100/s";

    public static void RegisterLimitedTask(TaskRegistry registry) =>
        registry.Register(LimitedTask, (long i) => i, new TaskOptions { RateLimit = RateLimit.Parse(LimitedRate) });

    public static IReadOnlyList<DemoTask> Create(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 10);
        var failing = Math.Max(1, count / 200);
        var flaky = Math.Max(1, count / 250);
        var limited = count / 10;
        var delayed = count / 20;
        var plain = count - failing - flaky - limited - delayed;
        var runId = Guid.NewGuid().ToString("N")[..8];

        var tasks = new List<DemoTask>(count);
        for (var i = 0; i < plain; i++)
        {
            tasks.Add(Plain(i));
        }

        for (var i = 0; i < delayed; i++)
        {
            var countdown = TimeSpan.FromSeconds(1 + (i % 3));
            tasks.Insert(i * tasks.Count / delayed, Task("tasks.add", [i, 1000], TaskStates.Success, i + 1000) with { Options = new SendOptions { Countdown = countdown } });
        }

        for (var i = 0; i < failing; i++)
        {
            tasks.Insert(i * tasks.Count / failing, Task("tasks.fail", [$"demo failure {i}"], TaskStates.Failure, null));
        }

        for (var i = 0; i < flaky; i++)
        {
            var key = $"demo-{runId}-{i}";
            tasks.Insert(i * tasks.Count / flaky, Task("tasks.flaky", [key, 2], TaskStates.Success, $"{key} succeeded after 2 failures"));
        }

        // The rate-limited burst goes out in one block, halfway through, so it competes with ordinary work.
        tasks.InsertRange(tasks.Count / 2, Enumerable.Range(0, limited).Select(j => Task(LimitedTask, [j], TaskStates.Success, j)));
        return tasks;
    }

    private static DemoTask Plain(int i) => (i % 3) switch
    {
        0 => Task("tasks.add", [i, i], TaskStates.Success, 2L * i),
        1 => Task("tasks.mul", [i, 3], TaskStates.Success, 3L * i),
        _ => Task("tasks.xsum", [new JsonArray(i, 0.5, 1)], TaskStates.Success, i + 1.5),
    };

    private static DemoTask Task(string name, JsonArray args, string state, JsonNode? result) =>
        new(name, args, SendOptions.Default, state, result);
}
