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
        Pool.AcceptOnlyFromAmong("threads", "prefork");
        MaxTasksPerChild.Validators.Add(result => RequireAtLeast(result, 0, "--max-tasks-per-child"));
        MaxMemoryPerChild.Validators.Add(result => RequireAtLeast(result, 0, "--max-memory-per-child"));
        TimeLimit.Validators.Add(result => RequirePositiveSeconds(result, "--time-limit"));
        SoftTimeLimit.Validators.Add(result => RequirePositiveSeconds(result, "--soft-time-limit"));
        Autoscale.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && ParseAutoscale(text) is { Error: { } error })
            {
                result.AddError(error);
            }
        });
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

    public Option<string?> Pool { get; } = new("--pool", "-P")
    {
        Description = "threads (default): tasks run in this process; prefork: each slot runs tasks in a child process, which is killed at the hard time limit.",
    };

    public Option<int?> MaxTasksPerChild { get; } = new("--max-tasks-per-child") { Description = "Replace a slot's child process after this many tasks (cluster-queue.node.max-tasks-per-child)." };

    public Option<long?> MaxMemoryPerChild { get; } = new("--max-memory-per-child")
    {
        Description = "Replace a prefork child after the task that took its resident memory above this many KiB (cluster-queue.node.max-memory-per-child).",
    };

    public Option<bool> Autoreload { get; } = new("--autoreload") { Description = "Watch the --app assembly and load a new version when it changes, without losing or repeating a task." };

    public Option<double?> TimeLimit { get; } = new("--time-limit") { Description = "Hard time limit per task, in seconds (cluster-queue.node.task-time-limit)." };

    public Option<double?> SoftTimeLimit { get; } = new("--soft-time-limit") { Description = "Soft time limit per task, in seconds: the task's token fires (cluster-queue.node.task-soft-time-limit)." };

    public Option<string?> Autoscale { get; } = new("--autoscale")
    {
        Description = "MAX[,MIN]: grow the pool by load up to MAX slots and shrink it back to MIN (default 0) when idle; replaces -c (cluster-queue.node.autoscale).",
    };

    public Option<bool> Beat { get; } = new("--beat", "-B")
    {
        Description = "Also run a beat member in this process, for the periodic tasks of cluster-queue.beat.schedule; of all beat members one sends at a time.",
    };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { App, Queues, Concurrency, Name, TaskEvents, PrefetchMultiplier, Optimization, AcksLate, Purge, LogLevel, Pool, MaxTasksPerChild, MaxMemoryPerChild, Autoreload, TimeLimit, SoftTimeLimit, Autoscale, Beat })
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
        Set("pool", parseResult.GetValue(Pool));
        Set("max-tasks-per-child", parseResult.GetValue(MaxTasksPerChild)?.ToString(CultureInfo.InvariantCulture));
        Set("max-memory-per-child", parseResult.GetValue(MaxMemoryPerChild)?.ToString(CultureInfo.InvariantCulture));
        Set("autoreload", parseResult.GetValue(Autoreload) ? "true" : null);
        Set("task-time-limit", parseResult.GetValue(TimeLimit) is { } hard ? hard.ToString(CultureInfo.InvariantCulture) + "s" : null);
        Set("task-soft-time-limit", parseResult.GetValue(SoftTimeLimit) is { } soft ? soft.ToString(CultureInfo.InvariantCulture) + "s" : null);
        if (parseResult.GetValue(Autoscale) is { } autoscale && ParseAutoscale(autoscale) is { Error: null } range)
        {
            Set("autoscale.max", range.Max.ToString(CultureInfo.InvariantCulture));
            Set("autoscale.min", range.Min.ToString(CultureInfo.InvariantCulture));
        }

        return overrides;
    }

    /// <summary>
    /// Celery's <c>--autoscale</c> value: <c>10,3</c> or <c>10</c> (min 0). As Celery's, the larger number is the max
    /// whichever comes first, so <c>3,10</c> is the same range. An error names the flag.
    /// </summary>
    public static (int Max, int Min, string? Error) ParseAutoscale(string text)
    {
        var parts = text.Split(',');
        var numbers = new List<int>(parts.Length);
        foreach (var part in parts)
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return (0, 0, $"--autoscale must be MAX or MAX,MIN with whole numbers of 0 or more, got '{text}'");
            }

            numbers.Add(number);
        }

        if (numbers.Count > 2)
        {
            return (0, 0, $"--autoscale takes one or two comma-separated numbers (MAX[,MIN]), got {numbers.Count} in '{text}'");
        }

        var max = numbers.Max();
        var min = numbers.Count == 2 ? numbers.Min() : 0;
        return max < 1 ? (0, 0, $"--autoscale MAX must be 1 or more, got '{text}'") : (max, min, null);
    }

    private static void RequirePositiveSeconds(OptionResult result, string option)
    {
        if (OptionValues.Single(result) is { } text && double.TryParse(text, CultureInfo.InvariantCulture, out var value) && !(value > 0))
        {
            result.AddError($"{option} must be a number of seconds above 0, got {text}");
        }
    }

    private static void RequireAtLeast(OptionResult result, int minimum, string option)
    {
        if (OptionValues.Single(result) is { } text && long.TryParse(text, CultureInfo.InvariantCulture, out var value) && value < minimum)
        {
            result.AddError($"{option} must be {minimum} or more, got {value}");
        }
    }
}
