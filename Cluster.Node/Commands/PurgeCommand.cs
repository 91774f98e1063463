using System.CommandLine;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node purge</c>: removes every waiting message from task queues, like <c>celery purge</c>.</summary>
public static class PurgeCommand
{
    public static Command Build()
    {
        var queues = new Option<string?>("--queues", "-Q") { Description = "Comma-separated queues to purge; default: cluster-queue.node.queues." };
        var exclude = new Option<string?>("--exclude-queues", "-X") { Description = "Comma-separated queues to leave out of the purge." };
        var force = new Option<bool>("--force", "-f") { Description = "Do not ask for confirmation (it is never asked when stdin is not a terminal)." };
        var connection = new ConnectionOptions();
        var command = new Command("purge", "Remove every waiting message from the task queues and print how many each held. There is no undo.")
        {
            queues,
            exclude,
            force,
        };
        connection.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var settings = connection.Load(parseResult);
            var excluded = QueuePurger.ParseQueues(parseResult.GetValue(exclude), "--exclude-queues") ?? [];
            var targets = (QueuePurger.ParseQueues(parseResult.GetValue(queues), "--queues") ?? settings.Worker.Queues).Except(excluded, StringComparer.Ordinal).ToList();
            if (targets.Count == 0)
            {
                throw CommandException.Usage($"--exclude-queues leaves no queue to purge ({string.Join(", ", excluded)})");
            }

            if (!parseResult.GetValue(force) && !Console.IsInputRedirected)
            {
                await output.WriteAsync(
                    $"WARNING: This will remove all tasks from {(targets.Count == 1 ? "queue" : "queues")}: {string.Join(", ", targets)}.{Environment.NewLine}"
                    + $"         There is no undo for this operation!{Environment.NewLine}Are you sure you want to delete all tasks (yes/NO)? ").ConfigureAwait(false);
                var answer = Console.ReadLine()?.Trim();
                if (!string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase))
                {
                    await output.WriteLineAsync("Nothing purged.").ConfigureAwait(false);
                    return ExitCodes.Failure;
                }
            }

            await using var app = settings.OpenApp(new TaskRegistry(), withResults: false);
            var counts = await QueuePurger.PurgeAsync(app, targets, cancellationToken).ConfigureAwait(false);
            await QueuePurger.WriteAsync(counts, output).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
