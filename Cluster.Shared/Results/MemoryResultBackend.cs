namespace ClusterQueue.Results;

/// <summary>The <c>memory://</c> result backend: results live in this process only (tests, single-process apps).</summary>
public sealed class MemoryResultBackend : IResultBackend
{
    // Results are kept as JSON text, as a real store keeps them, so a caller mutating a JsonNode cannot change a stored result.
    private readonly Dictionary<string, StoredResult> results = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredGroup> groups = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private readonly ResultWaiters waiters = new();
    private readonly TimeSpan expires;
    private readonly TimeProvider time;

    public MemoryResultBackend(TimeSpan? expires = null, TimeProvider? time = null)
    {
        this.expires = expires ?? new ResultSettings().Expires;
        this.time = time ?? TimeProvider.System;
    }

    public Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureStorable();
        var now = time.GetUtcNow();
        var stamped = result.DateDone is null ? result with { DateDone = now.UtcDateTime } : result;
        var json = TaskResultJson.Serialize(stamped);
        lock (gate)
        {
            if (results.TryGetValue(result.TaskId, out var stored) && stored.ExpiresAt > now
                && !ResultPrecedence.Accepts(stored.Status, result.Status))
            {
                return Task.FromResult(false);
            }

            results[result.TaskId] = new StoredResult(result.Status, json, now + expires);
        }

        waiters.Notify(result.TaskId);
        return Task.FromResult(true);
    }

    public Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        StoredResult? stored;
        lock (gate)
        {
            results.TryGetValue(taskId, out stored);
        }

        return Task.FromResult(stored is null || stored.ExpiresAt <= time.GetUtcNow()
            ? null
            : TaskResultJson.Parse(stored.Json, taskId));
    }

    public Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default) =>
        waiters.WaitAsync(taskId, ct => GetAsync(taskId, ct), timeout, pollInterval: null, time, cancellationToken);

    public Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(results.Remove(taskId));
        }
    }

    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var expired = results.Where(pair => pair.Value.ExpiresAt <= now).Select(pair => pair.Key).ToList();
            foreach (var taskId in expired)
            {
                results.Remove(taskId);
            }

            var expiredGroups = groups.Where(pair => pair.Value.ExpiresAt <= now).Select(pair => pair.Key).ToList();
            foreach (var groupId in expiredGroups)
            {
                groups.Remove(groupId);
            }

            return Task.FromResult(expired.Count + expiredGroups.Count);
        }
    }

    public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberIds);
        lock (gate)
        {
            groups[groupId] = new StoredGroup([.. memberIds], time.GetUtcNow() + expires);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<string>?>(LiveGroup(groupId)?.Members);
        }
    }

    public Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(groups.Remove(groupId));
        }
    }

    public bool CountsChordParts => true;

    public Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberId);
        lock (gate)
        {
            var group = LiveGroup(groupId) ?? throw ChordGroupMissing(groupId);
            if (!group.Finished.Add(memberId) || group.Finished.Count < group.Members.Count || group.Fired)
            {
                return Task.FromResult(false);
            }

            group.Fired = true;
            return Task.FromResult(true);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static InvalidOperationException ChordGroupMissing(string groupId) =>
        new($"chord group {groupId} is not saved in the result backend (never saved, forgotten or expired), so its members cannot be counted");

    private StoredGroup? LiveGroup(string groupId) =>
        groups.TryGetValue(groupId, out var group) && group.ExpiresAt > time.GetUtcNow() ? group : null;

    private sealed record StoredResult(string Status, string Json, DateTimeOffset ExpiresAt);

    private sealed record StoredGroup(IReadOnlyList<string> Members, DateTimeOffset ExpiresAt)
    {
        public HashSet<string> Finished { get; } = new(StringComparer.Ordinal);

        public bool Fired { get; set; }
    }
}
