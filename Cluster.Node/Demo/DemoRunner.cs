using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace ClusterQueue.Node.Demo;

/// <summary>The outcome of one demo run: what each task ended as, per node counters, and how long it took.</summary>
public sealed record DemoOutcome(
    IReadOnlyDictionary<string, int> ByState,
    int Lost,
    int WrongResults,
    IReadOnlyList<(string Node, WorkerStats Stats)> Nodes,
    TimeSpan Elapsed,
    TimeSpan PublishTime);

/// <summary>
/// Runs the demo in this process: two worker nodes on one temporary SQLite broker and SQLite result store, a mixed
/// workload, a live progress display, and a check that every task reached the state and value it should.
/// </summary>
public sealed class DemoRunner(IAnsiConsole console, bool live, ILoggerFactory logging)
{
    /// <summary>With no finished task for this long, the rest count as lost; generous for a loaded two-core machine.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    private const int NodeConcurrency = 4;

    public async Task<DemoOutcome> RunAsync(int taskCount, string directory, CancellationToken cancellationToken)
    {
        var broker = new BrokerSettings { Url = "sqlite:///" + Path.Combine(directory, "demo-broker.db") };
        var results = new ResultSettings { Backend = "sqlite:///" + Path.Combine(directory, "demo-results.db") };
        var workload = DemoWorkload.Create(taskCount);
        var clock = Stopwatch.StartNew();

        await using var client = ClusterQueueApp.Open(broker, results, tasks: CreateRegistry(), logging: logging);
        var nodes = new List<(ClusterQueueApp App, WorkerNode Node)>();
        try
        {
            var ids = workload.Select(_ => Protocol.Uuid.NewId()).ToArray();
            var tracker = new DemoTracker(ids);
            foreach (var name in new[] { "demo1@%h", "demo2@%h" })
            {
                var app = ClusterQueueApp.Open(broker, results, tasks: CreateRegistry(), logging: logging);
                var settings = new WorkerSettings
                {
                    Name = name,
                    Concurrency = NodeConcurrency,
                    StateDb = Path.Combine(directory, name[..5] + "-state.db"),
                };
                var node = await WorkerNode.StartAsync(settings, app, logging, cancellationToken).ConfigureAwait(false);
                node.TaskEvent += tracker.OnTaskEvent;
                nodes.Add((app, node));
            }

            console.MarkupLine($"[bold]Demo:[/] {taskCount} tasks on nodes {string.Join(", ", nodes.Select(n => n.Node.Name))}, concurrency {NodeConcurrency} each");
            console.MarkupLine($"  broker  {broker.Url.EscapeMarkup()}");
            console.MarkupLine($"  results {results.Backend.EscapeMarkup()}");

            var publishClock = Stopwatch.StartNew();
            await PublishAsync(client, workload, ids, cancellationToken).ConfigureAwait(false);
            var publishTime = publishClock.Elapsed;

            await ShowProgressAsync(tracker, clock, cancellationToken).ConfigureAwait(false);
            var elapsed = clock.Elapsed;

            foreach (var (_, node) in nodes)
            {
                await node.WarmShutdownAsync(cancellationToken).ConfigureAwait(false);
            }

            var (byState, lost, wrong) = await CheckResultsAsync(client.Results, workload, ids, cancellationToken).ConfigureAwait(false);
            return new DemoOutcome(byState, lost, wrong, nodes.Select(n => (n.Node.Name, n.Node.Stats)).ToList(), elapsed, publishTime);
        }
        finally
        {
            foreach (var (app, node) in nodes)
            {
                await node.DisposeAsync().ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static TaskRegistry CreateRegistry()
    {
        var registry = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        DemoWorkload.RegisterLimitedTask(registry);
        return registry;
    }

    private static async Task PublishAsync(ClusterQueueApp client, IReadOnlyList<DemoTask> workload, string[] ids, CancellationToken cancellationToken)
    {
        for (var i = 0; i < workload.Count; i++)
        {
            var task = workload[i];
            await client.SendTaskAsync(task.Name, task.Args, null, task.Options with { TaskId = ids[i] }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ShowProgressAsync(DemoTracker tracker, Stopwatch clock, CancellationToken cancellationToken)
    {
        if (live)
        {
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask("tasks", maxValue: tracker.Total);
                    while (!await WaitStepAsync(tracker, TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false))
                    {
                        bar.Value = tracker.Finished;
                        bar.Description = Describe(tracker);
                    }

                    bar.Value = tracker.Finished;
                    bar.Description = Describe(tracker);
                }).ConfigureAwait(false);
            return;
        }

        while (!await WaitStepAsync(tracker, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
        {
            console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {Describe(tracker)}");
        }

        console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {Describe(tracker)}");
    }

    /// <summary>Waits one display step; true when every task finished or progress stalled past <see cref="StallLimit"/>.</summary>
    private static async Task<bool> WaitStepAsync(DemoTracker tracker, TimeSpan step, CancellationToken cancellationToken)
    {
        try
        {
            await tracker.AllFinished.WaitAsync(step, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return tracker.SinceLastProgress > StallLimit;
        }
    }

    private static string Describe(DemoTracker tracker) =>
        $"{tracker.Finished}/{tracker.Total} done: {tracker.Succeeded} succeeded, {tracker.Failed} failed, {tracker.Retries} retries";

    /// <summary>Reads every result back from the store: the store, not the events, is what a client would see.</summary>
    private static async Task<(Dictionary<string, int> ByState, int Lost, int Wrong)> CheckResultsAsync(
        IResultBackend results,
        IReadOnlyList<DemoTask> workload,
        string[] ids,
        CancellationToken cancellationToken)
    {
        var byState = new Dictionary<string, int>(StringComparer.Ordinal);
        int lost = 0, wrong = 0;
        for (var i = 0; i < workload.Count; i++)
        {
            var stored = await results.GetAsync(ids[i], cancellationToken).ConfigureAwait(false);
            var state = stored?.Status ?? TaskStates.Pending;
            byState[state] = byState.GetValueOrDefault(state) + 1;
            if (stored is null || !stored.IsReady)
            {
                lost++;
            }
            else if (state != workload[i].ExpectedState
                || (state == TaskStates.Success && !JsonNode.DeepEquals(Normalize(stored.Result), Normalize(workload[i].ExpectedResult))))
            {
                wrong++;
            }
        }

        return (byState, lost, wrong);
    }

    // 5 and 5.0 are the same answer; JSON numbers compare by value.
    private static JsonNode? Normalize(JsonNode? node) =>
        node is JsonValue && node.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? JsonValue.Create(double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture))
            : node;
}
