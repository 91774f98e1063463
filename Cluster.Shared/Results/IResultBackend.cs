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

    /// <summary>
    /// The stored results of <paramref name="taskIds"/>, in the same order, null where <see cref="GetAsync"/> would
    /// give null: what a chord's join reads. The SQL stores read them in one query.
    /// </summary>
    async Task<IReadOnlyList<TaskResult?>> GetResultsAsync(IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var results = new TaskResult?[taskIds.Count];
        for (var i = 0; i < taskIds.Count; i++)
        {
            results[i] = await GetAsync(taskIds[i], cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Completes with the result once its state is ready.</summary>
    /// <exception cref="TimeoutException">The state was not ready within <paramref name="timeout"/>; the message names the task.</exception>
    Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default);

    /// <summary>Deletes the result; true when there was one.</summary>
    Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every result and every saved group (with its chord count) whose expiry is at or before
    /// <paramref name="now"/>; returns how many results and groups together.
    /// </summary>
    Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Celery's <c>GroupResult.save</c>: keeps the ids of a group's members, in order, under the group id until the
    /// group expires as results do. Saving a group id again replaces its members.
    /// </summary>
    /// <exception cref="NotSupportedException">The backend keeps no groups (rpc://); the message says so.</exception>
    Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default);

    /// <summary>Celery's <c>GroupResult.restore</c>: the member ids in order, or null when the group is unknown, forgotten or expired.</summary>
    /// <exception cref="NotSupportedException">The backend keeps no groups (rpc://).</exception>
    Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Deletes a saved group and its chord count, not its members' results; true when there was one.</summary>
    Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>
    /// True when <see cref="ChordPartReturnAsync"/> is available, so that a chord joins by counting its members in
    /// this store. False where Celery too has no counter (file://): a chord then joins with a <c>celery.chord_unlock</c> task.
    /// </summary>
    bool CountsChordParts { get; }

    /// <summary>
    /// Counts <paramref name="memberId"/> of the saved group <paramref name="groupId"/> as finished, atomically across
    /// processes. A member counted before (a redelivered task) is not counted again. True for exactly one call: the one
    /// that made the count reach the number of saved members; it then applies the chord's body.
    /// </summary>
    /// <exception cref="InvalidOperationException">The group was never saved, or has expired; the message names it.</exception>
    /// <exception cref="NotSupportedException"><see cref="CountsChordParts"/> is false.</exception>
    Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The queue that results of this client's tasks are sent to, ready to receive them, for the reply_to of every task
    /// it sends; null for backends that store results elsewhere (all but rpc://).
    /// </summary>
    ValueTask<string?> ReplyQueueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(null);
}
