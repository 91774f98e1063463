using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Node.Commands;

/// <summary>Prints a task's outcome the same way for <c>call --wait</c> and <c>result</c>: the value on stdout, a failure on stderr.</summary>
public static class ResultPrinter
{
    /// <summary>Waits for the result; prints its JSON value and returns 0, or prints the failure or the timeout and returns 1.</summary>
    public static async Task<int> WaitAndPrintAsync(AsyncResult result, TimeSpan? timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var value = await result.GetAsync(timeout, propagate: true, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync(ToJson(value)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (TaskFailedException e)
        {
            await error.WriteLineAsync(DescribeFailure(e.TaskId, e.Exception)).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (TimeoutException)
        {
            await error.WriteLineAsync($"no result for task {result.Id} within {timeout?.TotalSeconds:0.###} s").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    /// <summary>One line naming the remote exception: <c>task ID failed: builtins.ValueError: message</c>.</summary>
    public static string DescribeFailure(string taskId, ExceptionInfo exception)
    {
        var type = exception.ExcModule is null ? exception.ExcType : $"{exception.ExcModule}.{exception.ExcType}";
        return $"task {taskId} failed: {type}: {exception.Message}";
    }

    public static string ToJson(JsonNode? value) => value?.ToJsonString() ?? "null";
}
