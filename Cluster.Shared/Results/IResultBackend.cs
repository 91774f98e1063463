namespace ClusterQueue.Results;

/// <summary>Where task results are kept until they expire: Celery's result backend.</summary>
public interface IResultBackend : IAsyncDisposable
{
    /// <summary>
    /// Stores a state. Sets <see cref="TaskResult.DateDone"/> to now when it is null. A state of lower
    /// precedence than a stored ready state is ignored (a late STARTED after SUCCESS), and false is returned.
    /// </summary>
    Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default);

    /// <summary>The stored result, or null when the task is unknown, forgotten or expired (Celery reports PENDING).</summary>
    Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>Completes with the result once its state is ready.</summary>
    /// <exception cref="TimeoutException">The state was not ready within <paramref name="timeout"/>; the message names the task.</exception>
    Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default);

    /// <summary>Deletes the result; true when there was one.</summary>
    Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every result whose expiry is at or before <paramref name="now"/>; returns how many.</summary>
    Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// The queue that results of this client's tasks are sent to, ready to receive them, for the reply_to of every task
    /// it sends; null for backends that store results elsewhere (all but rpc://).
    /// </summary>
    ValueTask<string?> ReplyQueueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(null);
}
