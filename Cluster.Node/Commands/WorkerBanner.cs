using System.Text;
using ClusterQueue.Client;
using ClusterQueue.Node.Steps;
using ClusterQueue.Node.Worker;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// The start-up banner of a worker, laid out as Celery's: node, transport, results, concurrency, queues and tasks, and
/// the parts the node starts, in order, with the user's bootsteps among them (Celery shows its steps only in debug logs).
/// </summary>
public static class WorkerBanner
{
    public static string Render(string nodeName, NodeSettings settings, TaskRegistry tasks, string app) =>
        Render(nodeName, settings, tasks, app, settings.Worker, WorkerSteps.None);

    /// <summary>The banner with a <c>[bootsteps]</c> section for the parts <paramref name="node"/> turns on and the user's <paramref name="steps"/>.</summary>
    public static string Render(string nodeName, NodeSettings settings, TaskRegistry tasks, string app, WorkerSettings node, WorkerSteps steps)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(steps);
        var worker = settings.Worker;
        var events = worker.SendTaskEvents ? "ON" : "OFF (enable -E to monitor tasks in this worker)";
        var text = new StringBuilder();
        text.AppendLine($" -------------- {nodeName} (ClusterQueue {typeof(WorkerBanner).Assembly.GetName().Version?.ToString(3)})");
        text.AppendLine("--- ***** -----");
        text.AppendLine($"-- ******* ---- {Environment.OSVersion} {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss}");
        text.AppendLine("- *** --- * ---");
        text.AppendLine("- ** ---------- [config]");
        text.AppendLine($"- ** ---------- .> app:         {app}");
        text.AppendLine($"- ** ---------- .> transport:   {settings.DisplayBroker}");
        text.AppendLine($"- ** ---------- .> results:     {settings.DisplayResultBackend}");
        // Celery shows an autoscaling pool's range in place of its size.
        var concurrency = worker.Autoscale.Enabled ? $"{{min={worker.Autoscale.Min}, max={worker.Autoscale.Max}}}" : worker.EffectiveConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        text.AppendLine($"- *** --- * --- .> concurrency: {concurrency} ({worker.Pool}), prefetch multiplier {worker.PrefetchMultiplier}, -O {worker.Optimization}{(worker.AcksLate ? ", acks late" : "")}");
        text.AppendLine($"-- ******* ---- .> task events: {events}");
        text.AppendLine("--- ***** -----");
        text.AppendLine(" -------------- [queues]");
        foreach (var queue in worker.Queues)
        {
            text.AppendLine($"                .> {queue,-16} exchange={queue}(direct) key={queue}");
        }

        text.AppendLine();
        text.AppendLine("[bootsteps]");
        var builtIns = BuiltInSteps.For(node);
        foreach (var part in builtIns.Where(part => part.BeforeUserSteps))
        {
            text.AppendLine($"  . {part.Name,-16} {part.Job}");
        }

        foreach (var step in steps.InStartOrder)
        {
            var requires = step.Requires is { Count: > 0 } required ? $" (requires {string.Join(", ", required)})" : "";
            text.AppendLine($"  . {step.Name,-16} user step {step.GetType().FullName}{requires}");
        }

        foreach (var part in builtIns.Where(part => !part.BeforeUserSteps))
        {
            text.AppendLine($"  . {part.Name,-16} {part.Job}");
        }

        text.AppendLine();
        text.AppendLine("[tasks]");
        foreach (var task in tasks.Tasks.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var limit = task.Options.RateLimit is { } rate ? $" [rate_limit={rate}]" : "";
            text.AppendLine($"  . {task.Name}{limit}");
        }

        return text.ToString();
    }
}
