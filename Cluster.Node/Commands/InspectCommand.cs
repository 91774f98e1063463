using System.CommandLine;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node inspect &lt;method&gt;</c>: asks running nodes about their state, like <c>celery inspect</c>.</summary>
public static class InspectCommand
{
    public static Command Build()
    {
        var options = new RemoteControlOptions();
        var command = new Command(
            "inspect",
            "Ask running nodes about their state, like celery inspect. Prints '->  <node>: OK' and the reply for each node, then how many replied; "
            + $"exits 69 ('{RemoteCall.NoReplies}') when none replies, 1 when a node replies with an error.");
        options.AddTo(command);

        command.Subcommands.Add(Plain(options, "active", "Tasks each node is running now."));
        command.Subcommands.Add(Plain(options, "reserved", "Tasks each node has taken from its queues and not started yet."));
        command.Subcommands.Add(Plain(options, "scheduled", "Tasks each node holds for a later ETA or countdown."));
        command.Subcommands.Add(Plain(options, "revoked", "Ids each node holds as revoked."));
        command.Subcommands.Add(Plain(options, "stats", "Each node's statistics: pid, pool, broker, totals per task, rusage."));
        command.Subcommands.Add(Plain(options, "active_queues", "The queues each node consumes from."));
        command.Subcommands.Add(Plain(options, "clock", "Each node's Lamport clock value."));
        command.Subcommands.Add(Plain(options, "ping", "Ask each node for a pong."));
        command.Subcommands.Add(Plain(options, "members", "The cluster's members as each node sees them in Akka.Cluster: node, address, status (Up, Unreachable, Leaving, Down...) and roles."));

        var items = new Argument<string[]>("taskinfoitems")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Task attributes to show beside each name, e.g. rate_limit; default: exchange, routing_key and rate_limit where set.",
        };
        var registered = new Command("registered", "The tasks each node knows, with their attributes.") { items };
        registered.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "registered", new RegisteredArguments(parseResult.GetValue(items) ?? []).ToJson(), ReplyStyle.Inspect, cancellationToken));
        command.Subcommands.Add(registered);

        var withDefaults = new Option<bool>("--with-defaults") { Description = "Include settings left at their defaults." };
        var conf = new Command("conf", "Each node's configuration, secrets masked.") { withDefaults };
        conf.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "conf", new ConfArguments(parseResult.GetValue(withDefaults)).ToJson(), ReplyStyle.Inspect, cancellationToken));
        command.Subcommands.Add(conf);

        var ids = new Argument<string[]>("ids") { Arity = ArgumentArity.OneOrMore, Description = "Task ids to look up." };
        var queryTask = new Command("query_task", "Where each node holds the given tasks: active, reserved or scheduled, with their requests.") { ids };
        queryTask.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "query_task", new QueryTaskArguments(parseResult.GetValue(ids)!).ToJson(), ReplyStyle.Inspect, cancellationToken));
        command.Subcommands.Add(queryTask);
        return command;
    }

    private static Command Plain(RemoteControlOptions options, string method, string description)
    {
        var command = new Command(method, description);
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, method, ControlCommands.InspectArguments(method), ReplyStyle.Inspect, cancellationToken));
        return command;
    }
}
