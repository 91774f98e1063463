using System.CommandLine;
using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node result ID</c>: prints a task's state and its result or exception, like <c>celery result</c>.</summary>
public static class ResultCommand
{
    public static Command Build()
    {
        var id = new Argument<string>("id") { Description = "The task id that call printed." };
        var timeout = new Option<double?>("--timeout") { Description = "Wait up to this many seconds for the task to be ready; default: read the current state once." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: task_id, state, result, traceback, date_done." };
        OptionValues.RequireSeconds(timeout);
        var connection = new ConnectionOptions(withBroker: false);
        var command = new Command("result", "Print a task's state and its result or exception; exit 0 only for SUCCESS.") { id, timeout, json };
        connection.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var taskId = parseResult.GetValue(id)!;
            var settings = connection.Load(parseResult);
            await using var results = settings.OpenResults();
            var result = await ReadAsync(results, taskId, CallCommand.Seconds(parseResult.GetValue(timeout)), cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(ToJson(taskId, result).ToJsonString()).ConfigureAwait(false);
            }
            else
            {
                await WriteTextAsync(taskId, result, output, error).ConfigureAwait(false);
            }

            return result?.Status == TaskStates.Success ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static async Task<TaskResult?> ReadAsync(IResultBackend results, string taskId, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (timeout is null)
        {
            return await results.GetAsync(taskId, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await results.WaitAsync(taskId, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Not ready in time: show whatever state is stored now, which may be STARTED or RETRY.
            return await results.GetAsync(taskId, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WriteTextAsync(string taskId, TaskResult? result, TextWriter output, TextWriter error)
    {
        await output.WriteLineAsync($"state: {result?.Status ?? TaskStates.Pending}").ConfigureAwait(false);
        if (result is null)
        {
            await error.WriteLineAsync($"no result stored for task {taskId} (unknown id, not run yet, or expired)").ConfigureAwait(false);
            return;
        }

        if (result.Exception is { } exception)
        {
            await output.WriteLineAsync($"exception: {ResultPrinter.DescribeFailure(taskId, exception)}").ConfigureAwait(false);
            if (!string.IsNullOrEmpty(result.Traceback))
            {
                await output.WriteLineAsync(result.Traceback.TrimEnd()).ConfigureAwait(false);
            }

            return;
        }

        await output.WriteLineAsync($"result: {ResultPrinter.ToJson(result.Result)}").ConfigureAwait(false);
    }

    private static JsonObject ToJson(string taskId, TaskResult? result) => new()
    {
        ["task_id"] = taskId,
        ["state"] = result?.Status ?? TaskStates.Pending,
        ["result"] = result?.Result?.DeepClone(),
        ["traceback"] = result?.Traceback,
        ["date_done"] = result?.DateDone?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };
}
