using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace ClusterQueue.Node.Commands;

/// <summary>The <c>worker</c> command's celery-style flags, and the configuration overrides they stand for.</summary>
public sealed class WorkerOptions
{
    public WorkerOptions()
    {
        Optimization.AcceptOnlyFromAmong("fair", "default");
        Concurrency.Validators.Add(result => RequireAtLeast(result, 0, "--concurrency"));
        PrefetchMultiplier.Validators.Add(result => RequireAtLeast(result, 0, "--prefetch-multiplier"));
    }

    public Option<string?> App { get; } = new("--app", "-A")
    {
        Description = "Path of a .NET assembly whose [CeleryTask] methods this worker runs; without it the worker runs the demo tasks (tasks.add, tasks.mul, ...).",
    };

    public Option<string?> Queues { get; } = new("--queues", "-Q") { Description = "Comma-separated queues to consume, e.g. celery,video; overrides cluster-queue.node.queues." };

    public Option<int?> Concurrency { get; } = new("--concurrency", "-c") { Description = "Tasks run at once; default one per CPU (cluster-queue.node.concurrency)." };

    public Option<string?> Name { get; } = new("--hostname", "-n") { Description = "Node name; %h is the host name, %n the host name without its domain (default celery@%h)." };

    public Option<bool> TaskEvents { get; } = new("--task-events", "-E") { Description = "Send task events for monitors (cluster-queue.node.send-task-events); worker events are always sent." };

    public Option<int?> PrefetchMultiplier { get; } = new("--prefetch-multiplier") { Description = "Unacked messages reserved per pool slot (cluster-queue.node.prefetch-multiplier)." };

    public Option<string?> Optimization { get; } = new("--optimization", "-O")
    {
        Description = "fair: reserve only what an idle slot can start; default: reserve up to the prefetch window.",
    };

    public Option<bool> AcksLate { get; } = new("--acks-late") { Description = "Acknowledge a task after it ran instead of before, so a crash gives it to another worker." };

    public Option<bool> Purge { get; } = new("--purge") { Description = "Remove every waiting message from the worker's queues before starting, printing how many." };

    public Option<string> LogLevel { get; } = LogLevels.CreateOption();

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { App, Queues, Concurrency, Name, TaskEvents, PrefetchMultiplier, Optimization, AcksLate, Purge, LogLevel })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The flags given, as <c>cluster-queue.node.*</c> overrides: the last configuration layer.</summary>
    public Dictionary<string, string?> Overrides(ParseResult parseResult)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                overrides["cluster-queue.node." + key] = value;
            }
        }

        Set("queues", QueuePurger.ParseQueues(parseResult.GetValue(Queues), "--queues") is { } queues ? string.Join(',', queues) : null);
        Set("concurrency", parseResult.GetValue(Concurrency)?.ToString(CultureInfo.InvariantCulture));
        Set("name", parseResult.GetValue(Name));
        Set("send-task-events", parseResult.GetValue(TaskEvents) ? "true" : null);
        Set("prefetch-multiplier", parseResult.GetValue(PrefetchMultiplier)?.ToString(CultureInfo.InvariantCulture));
        Set("optimization", parseResult.GetValue(Optimization));
        Set("acks-late", parseResult.GetValue(AcksLate) ? "true" : null);
        return overrides;
    }

    private static void RequireAtLeast(OptionResult result, int minimum, string option)
    {
        if (OptionValues.Single(result) is { } text && int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value < minimum)
        {
            result.AddError($"{option} must be {minimum} or more, got {value}");
        }
    }
}
