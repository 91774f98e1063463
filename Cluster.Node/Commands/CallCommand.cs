using System.CommandLine;
using ClusterQueue.Client;
using ClusterQueue.Results;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node call</c>: sends a task by name, like <c>celery call</c>, and optionally waits for its result.</summary>
public static class CallCommand
{
    public static Command Build()
    {
        var task = new Argument<string>("task") { Description = "Name of the task to send, e.g. tasks.add." };
        var args = new Option<string?>("--args", "-a") { Description = "Positional arguments as a JSON array, e.g. '[2, 3]'." };
        var kwargs = new Option<string?>("--kwargs", "-k") { Description = "Keyword arguments as a JSON object, e.g. '{\"y\": 3}'." };
        var countdown = new Option<double?>("--countdown") { Description = "Run no earlier than this many seconds from now." };
        var eta = new Option<string?>("--eta") { Description = "Run no earlier than this ISO 8601 time (UTC when no offset is given)." };
        var expires = new Option<double?>("--expires") { Description = "Discard the task if it has not started this many seconds from now." };
        var queue = new Option<string?>("--queue", "-Q") { Description = "Queue to send to; default: the task's route or cluster-queue.publish.default-queue." };
        var taskId = new Option<string?>("--task-id") { Description = "Id to give the task instead of a new UUID (Celery's apply_async(task_id=...))." };
        var exchange = new Option<string?>("--exchange") { Description = "Exchange to publish to; default: the queue's exchange." };
        var routingKey = new Option<string?>("--routing-key") { Description = "Routing key to publish with; default: the queue's routing key." };
        var priority = new Option<int?>("--priority") { Description = "Message priority 0-9 (honoured on queues declared with a maximum priority)." };
        var wait = new Option<bool>("--wait") { Description = "Wait for the result and print it as JSON; a failed task prints its exception and exits 1." };
        var timeout = new Option<double?>("--timeout") { Description = "With --wait: give up after this many seconds (exit 1); default: wait as long as it takes." };
        priority.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && int.TryParse(text, out var value) && value is < 0 or > 9)
            {
                result.AddError($"--priority must be between 0 and 9, got {value}");
            }
        });
        taskId.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && string.IsNullOrWhiteSpace(text))
            {
                result.AddError("--task-id must not be empty");
            }
        });
        OptionValues.RequireSeconds(countdown);
        OptionValues.RequireSeconds(expires);
        OptionValues.RequireSeconds(timeout);

        var connection = new ConnectionOptions();
        var command = new Command("call", "Send a task by name and print its id, or with --wait its result (like celery call).")
        {
            task, args, kwargs, countdown, eta, expires, queue, taskId, exchange, routingKey, priority, wait, timeout,
        };
        connection.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (parseResult.GetValue(routingKey) is not null && string.IsNullOrEmpty(parseResult.GetValue(exchange)))
            {
                // Without an exchange the task goes straight to its queue, and a routing key would be silently ignored.
                throw CommandException.Usage("--routing-key needs --exchange; to send straight to a queue use --queue");
            }

            var jsonArgs = JsonArguments.ParseArray(parseResult.GetValue(args), "--args");
            var jsonKwargs = JsonArguments.ParseObject(parseResult.GetValue(kwargs), "--kwargs");
            var options = new SendOptions
            {
                Countdown = parseResult.GetValue(countdown) is { } c ? TimeSpan.FromSeconds(c) : null,
                Eta = JsonArguments.ParseTime(parseResult.GetValue(eta), "--eta"),
                ExpiresIn = parseResult.GetValue(expires) is { } e ? TimeSpan.FromSeconds(e) : null,
                Queue = parseResult.GetValue(queue),
                TaskId = parseResult.GetValue(taskId),
                Exchange = parseResult.GetValue(exchange),
                RoutingKey = parseResult.GetValue(routingKey),
                Priority = parseResult.GetValue(priority) is { } p ? (byte)p : null,
            };
            var settings = connection.Load(parseResult);
            var wantsResult = parseResult.GetValue(wait);
            await using var app = settings.OpenApp(new TaskRegistry(), withResults: wantsResult);
            var sent = await app.SendTaskAsync(parseResult.GetValue(task)!, jsonArgs, jsonKwargs, options, cancellationToken).ConfigureAwait(false);
            if (!wantsResult)
            {
                await output.WriteLineAsync(sent.Id).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            return await ResultPrinter.WaitAndPrintAsync(app.AsyncResult(sent.Id), Seconds(parseResult.GetValue(timeout)), output, error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    internal static TimeSpan? Seconds(double? value) => value is { } s ? TimeSpan.FromSeconds(s) : null;
}
