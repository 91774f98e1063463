using System.CommandLine;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node control &lt;method&gt;</c>: changes running nodes, like <c>celery control</c>.</summary>
public static class ControlCommand
{
    public static Command Build()
    {
        var options = new RemoteControlOptions();
        var command = new Command(
            "control",
            "Change running nodes, like celery control. Prints '->  <node>: OK' or ERROR and the reply for each node; "
            + $"exits 69 ('{RemoteCall.NoReplies}') when none replies, 1 when a node replies with an error.");
        options.AddTo(command);
        command.Subcommands.Add(Revoke(options));
        command.Subcommands.Add(RateLimit(options));
        command.Subcommands.Add(TimeLimit(options));
        command.Subcommands.Add(AddConsumer(options));
        command.Subcommands.Add(CancelConsumer(options));
        command.Subcommands.Add(PoolResize(options, "pool_grow", "Start N more pool threads on each node."));
        command.Subcommands.Add(PoolResize(options, "pool_shrink", "Stop N pool threads on each node once they are idle."));
        command.Subcommands.Add(Autoscale(options));
        command.Subcommands.Add(Plain(options, "enable_events", "Turn task events on."));
        command.Subcommands.Add(Plain(options, "disable_events", "Turn task events off (worker heartbeats go on)."));
        command.Subcommands.Add(Plain(options, "heartbeat", "Make each node send a worker-heartbeat event now; nodes reply None."));
        var shutdown = new Command("shutdown", "Warm-shut-down the nodes: they finish running tasks and exit. Nodes never reply, so this only sends it and exits 0.");
        shutdown.SetGuardedAction((parseResult, cancellationToken) => RemoteCall.SendWithoutReplyAsync(parseResult, options, "shutdown", cancellationToken));
        command.Subcommands.Add(shutdown);
        return command;
    }

    private static Command Revoke(RemoteControlOptions options)
    {
        var ids = new Argument<string[]>("ids") { Arity = ArgumentArity.OneOrMore, Description = "Task ids to revoke; nodes skip them when they arrive." };
        var terminate = new Option<bool>("--terminate") { Description = "Also stop the tasks among them that are running now." };
        var signal = new Option<string>("--signal", "-s")
        {
            Description = "With --terminate: the signal name, e.g. SIGTERM or SIGKILL.",
            DefaultValueFactory = _ => "SIGTERM",
        };
        signal.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && !IsSignalName(text))
            {
                result.AddError($"--signal must be a signal name such as SIGTERM, SIGKILL or SIGUSR1, got '{text}'");
            }
        });
        var command = new Command("revoke", "Revoke tasks by id on every node; with --terminate also stop them where they run.") { ids, terminate, signal };
        command.SetGuardedAction((parseResult, cancellationToken) =>
        {
            var arguments = new RevokeArguments(parseResult.GetValue(ids)!, parseResult.GetValue(terminate), NormalizeSignal(parseResult.GetValue(signal)!));
            return RemoteCall.RunAsync(parseResult, options, "revoke", arguments.ToJson(), ReplyStyle.Control, cancellationToken);
        });
        return command;
    }

    private static Command RateLimit(RemoteControlOptions options)
    {
        var task = new Argument<string>("task") { Description = "Task name, e.g. tasks.add." };
        var rate = new Argument<string>("rate") { Description = "Tasks per second, minute or hour on each node: 10/s, 100/m, 1000/h, or 0 to remove the limit. Nodes check it and reply with an error when it is not a rate." };
        var command = new Command("rate_limit", "Set a task's rate limit on each node.") { task, rate };
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "rate_limit", new RateLimitArguments(parseResult.GetValue(task)!, parseResult.GetValue(rate)).ToJson(), ReplyStyle.Control, cancellationToken));
        return command;
    }

    private static Command TimeLimit(RemoteControlOptions options)
    {
        var task = new Argument<string>("task") { Description = "Task name, e.g. tasks.add." };
        var soft = new Argument<double>("soft") { Description = "Soft time limit in seconds: the task is asked to stop." };
        var hard = new Argument<double?>("hard") { Arity = ArgumentArity.ZeroOrOne, Description = "Hard time limit in seconds: the task is abandoned; default: none." };
        RequireSeconds(soft);
        RequireSeconds(hard);
        var command = new Command("time_limit", "Set a task's soft and hard time limits on each node.") { task, soft, hard };
        command.SetGuardedAction((parseResult, cancellationToken) =>
        {
            var arguments = new TimeLimitArguments(parseResult.GetValue(task)!, parseResult.GetValue(hard), parseResult.GetValue(soft));
            return RemoteCall.RunAsync(parseResult, options, "time_limit", arguments.ToJson(), ReplyStyle.Control, cancellationToken);
        });
        return command;
    }

    private static Command AddConsumer(RemoteControlOptions options)
    {
        var queue = new Argument<string>("queue") { Description = "Queue to start consuming from; nodes declare it." };
        var exchange = new Argument<string?>("exchange") { Arity = ArgumentArity.ZeroOrOne, Description = "Exchange to bind it to; default: one named after the queue." };
        var exchangeType = new Argument<string?>("exchange_type") { Arity = ArgumentArity.ZeroOrOne, Description = "direct (default), topic, fanout or headers." };
        var routingKey = new Argument<string?>("routing_key") { Arity = ArgumentArity.ZeroOrOne, Description = "Binding key; default: the queue name." };
        exchangeType.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && token.Value is not ("direct" or "topic" or "fanout" or "headers"))
            {
                result.AddError($"exchange_type must be direct, topic, fanout or headers, got '{token.Value}'");
            }
        });
        var command = new Command("add_consumer", "Make each node consume from one more queue.") { queue, exchange, exchangeType, routingKey };
        command.SetGuardedAction((parseResult, cancellationToken) =>
        {
            var arguments = new AddConsumerArguments(
                parseResult.GetValue(queue)!, parseResult.GetValue(exchange), parseResult.GetValue(exchangeType) ?? "direct", parseResult.GetValue(routingKey));
            return RemoteCall.RunAsync(parseResult, options, "add_consumer", arguments.ToJson(), ReplyStyle.Control, cancellationToken);
        });
        return command;
    }

    private static Command CancelConsumer(RemoteControlOptions options)
    {
        var queue = new Argument<string>("queue") { Description = "Queue to stop consuming from." };
        var command = new Command("cancel_consumer", "Make each node stop consuming from a queue.") { queue };
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "cancel_consumer", new CancelConsumerArguments(parseResult.GetValue(queue)!).ToJson(), ReplyStyle.Control, cancellationToken));
        return command;
    }

    private static Command PoolResize(RemoteControlOptions options, string method, string description)
    {
        var n = new Argument<int>("n") { Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => 1, Description = "How many threads; default 1." };
        n.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && int.TryParse(token.Value, out var value) && value < 1)
            {
                result.AddError($"n must be 1 or more, got {value}");
            }
        });
        var command = new Command(method, description) { n };
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, method, new PoolResizeArguments(parseResult.GetValue(n)).ToJson(), ReplyStyle.Control, cancellationToken));
        return command;
    }

    private static Command Autoscale(RemoteControlOptions options)
    {
        var max = new Argument<int>("max") { Description = "Most pool threads." };
        var min = new Argument<int>("min") { Description = "Fewest pool threads." };
        var command = new Command("autoscale", "Change the autoscaling range of each node's pool; nodes without autoscale reply with an error.") { max, min };
        command.Validators.Add(result =>
        {
            if (result.GetResult(max) is { Tokens: [var maxToken] } && result.GetResult(min) is { Tokens: [var minToken] }
                && int.TryParse(maxToken.Value, out var maxValue) && int.TryParse(minToken.Value, out var minValue)
                && (minValue < 0 || maxValue < minValue))
            {
                result.AddError($"autoscale needs 0 <= min <= max, got max {maxValue} and min {minValue}");
            }
        });
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "autoscale", new AutoscaleArguments(parseResult.GetValue(max), parseResult.GetValue(min)).ToJson(), ReplyStyle.Control, cancellationToken));
        return command;
    }

    private static Command Plain(RemoteControlOptions options, string method, string description)
    {
        var command = new Command(method, description);
        command.SetGuardedAction((parseResult, cancellationToken) => RemoteCall.RunAsync(parseResult, options, method, [], ReplyStyle.Control, cancellationToken));
        return command;
    }

    private static void RequireSeconds<T>(Argument<T> argument) =>
        argument.Validators.Add(result =>
        {
            if (result.Tokens is [var token]
                && double.TryParse(token.Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && (value < 0 || !double.IsFinite(value)))
            {
                result.AddError($"{argument.Name} must be a number of seconds, 0 or more, got {token.Value}");
            }
        });

    // Nodes look the name up themselves; the check here only catches typos before anything is sent.
    private static bool IsSignalName(string text)
    {
        var rest = NormalizeSignal(text)[3..];
        var letters = rest.TakeWhile(char.IsAsciiLetter).Count();
        return letters > 0 && rest[letters..].All(char.IsAsciiDigit);
    }

    private static string NormalizeSignal(string text)
    {
        var upper = text.Trim().ToUpperInvariant();
        return upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper;
    }
}
