using System.Text.Json.Nodes;

namespace ClusterQueue.Client;

/// <summary>What a running task knows about its own request; a task method receives it by declaring a parameter of this type.</summary>
public sealed class TaskContext
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public JsonArray Args { get; init; } = [];

    public JsonObject Kwargs { get; init; } = [];

    /// <summary>How many times this task has been retried so far (0 on the first run).</summary>
    public int Retries { get; init; }

    /// <summary>The name of the node running the task, e.g. <c>celery@host</c>.</summary>
    public string Hostname { get; init; } = "";

    public TaskOptions Options { get; init; } = new();

    /// <summary>Cancelled by the soft time limit, by <c>revoke(terminate=True)</c>, and by a cold shutdown.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Asks for this task to run again later with the same id and <c>retries + 1</c>, as Celery's <c>self.retry()</c>.
    /// It always throws: <see cref="TaskRetryException"/> when a retry is allowed; otherwise <paramref name="exception"/>
    /// itself, or <see cref="MaxRetriesExceededException"/> when none was given.
    /// </summary>
    public Exception Retry(TimeSpan? countdown = null, Exception? exception = null, int? maxRetries = null, DateTimeOffset? eta = null)
    {
        var limit = maxRetries ?? Options.MaxRetries;
        if (limit is { } max && Retries >= max)
        {
            if (exception is not null)
            {
                throw exception;
            }

            throw new MaxRetriesExceededException(Name, Id, max);
        }

        var when = eta ?? DateTimeOffset.UtcNow + (countdown ?? Options.DefaultRetryDelay);
        throw new TaskRetryException(when, exception);
    }
}

/// <summary>Thrown by <see cref="TaskContext.Retry"/>: the node republishes the task with the same id at <see cref="Eta"/>.</summary>
public sealed class TaskRetryException(DateTimeOffset eta, Exception? cause)
    : Exception(cause is null ? $"retry at {eta:O}" : $"retry at {eta:O}: {cause.Message}", cause)
{
    public DateTimeOffset Eta { get; } = eta;
}

/// <summary>A task asked for a retry after using up its <c>max_retries</c> (Celery's MaxRetriesExceededError).</summary>
public sealed class MaxRetriesExceededException(string taskName, string taskId, int maxRetries)
    : Exception($"Can't retry {taskName}[{taskId}] args:... kwargs:... (max retries {maxRetries} exceeded)");

/// <summary>The arguments in a task message do not fit the task's parameters; the message names the parameter.</summary>
public sealed class TaskArgumentException(string message) : Exception(message);
