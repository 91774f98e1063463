using ClusterQueue.Results;
using Spectre.Console;

namespace ClusterQueue.Node.Demo;

/// <summary>The demo's closing summary: tasks by final state, work by node, and the verdict.</summary>
public static class DemoReport
{
    public static void Write(IAnsiConsole console, DemoOutcome outcome, int taskCount)
    {
        var states = new Table().Title("Tasks by state").AddColumn("state").AddColumn(new TableColumn("tasks").RightAligned());
        foreach (var (state, count) in outcome.ByState.OrderByDescending(p => TaskStates.Precedence(p.Key)))
        {
            states.AddRow(state, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var nodes = new Table().Title("Work by node").AddColumn("node");
        foreach (var column in new[] { "received", "share", "succeeded", "failed", "retried", "rejected" })
        {
            nodes.AddColumn(new TableColumn(column).RightAligned());
        }

        // A node's share of all deliveries: equal nodes should each take about the same.
        var received = Math.Max(1, outcome.Nodes.Sum(n => n.Stats.Received));
        foreach (var (node, stats) in outcome.Nodes)
        {
            nodes.AddRow(node, $"{stats.Received}", $"{100.0 * stats.Received / received:0} %", $"{stats.Succeeded}", $"{stats.Failed}", $"{stats.Retried}", $"{stats.Rejected}");
        }

        console.Write(states);
        console.Write(nodes);
        var seconds = outcome.Elapsed.TotalSeconds;
        console.WriteLine($"{taskCount} tasks in {seconds:0.0} s ({taskCount / Math.Max(seconds, 0.001):0} tasks/s; publishing took {outcome.PublishTime.TotalSeconds:0.0} s)");
        console.WriteLine($"lost: {outcome.Lost}, wrong results: {outcome.WrongResults}");
        console.MarkupLine(outcome.Lost == 0 && outcome.WrongResults == 0
            ? "[green]Every task reached its expected state.[/]"
            : "[red]Some tasks did not reach their expected state.[/]");
    }
}
