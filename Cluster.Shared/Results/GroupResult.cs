using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>A handle on a group's results, as Celery's <c>GroupResult</c>: its members in order, join, save and restore.</summary>
public sealed class GroupResult
{
    private readonly IResultBackend backend;

    public GroupResult(string id, IReadOnlyList<AsyncResult> results, IResultBackend backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(backend);
        Id = id;
        Results = results;
        this.backend = backend;
    }

    public string Id { get; }

    public IReadOnlyList<AsyncResult> Results { get; }

    /// <summary>Celery's <c>GroupResult.restore(id)</c>: the saved group, or null when it is unknown, forgotten or expired.</summary>
    public static async Task<GroupResult?> RestoreAsync(string id, IResultBackend backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var members = await backend.RestoreGroupAsync(id, cancellationToken).ConfigureAwait(false);
        return members is null ? null : new GroupResult(id, [.. members.Select(member => new AsyncResult(member, backend))], backend);
    }

    /// <summary>Celery's <c>save()</c>: keeps the member ids under the group id, so that another process can restore it.</summary>
    public Task SaveAsync(CancellationToken cancellationToken = default) =>
        backend.SaveGroupAsync(Id, [.. Results.Select(r => r.Id)], cancellationToken);

    /// <summary>Celery's <c>delete()</c>: forgets the saved group, not its members' results.</summary>
    public Task<bool> DeleteAsync(CancellationToken cancellationToken = default) => backend.ForgetGroupAsync(Id, cancellationToken);

    /// <summary>True when every member is ready.</summary>
    public async Task<bool> ReadyAsync(CancellationToken cancellationToken = default)
    {
        foreach (var result in Results)
        {
            if (!await result.ReadyAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Celery's <c>completed_count()</c>: how many members succeeded.</summary>
    public async Task<int> CompletedCountAsync(CancellationToken cancellationToken = default)
    {
        var count = 0;
        foreach (var result in Results)
        {
            count += await result.SuccessfulAsync(cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return count;
    }

    /// <summary>
    /// Celery's <c>get()</c>/<c>join()</c>: waits for every member and returns their results in order. With
    /// <paramref name="propagate"/> the first failed member (in order) raises; <paramref name="timeout"/> bounds the whole wait.
    /// </summary>
    /// <exception cref="TimeoutException">Not all members were ready in time; names the first that was not.</exception>
    public async Task<JsonArray> GetAsync(TimeSpan? timeout = null, bool propagate = true, CancellationToken cancellationToken = default)
    {
        var started = DateTimeOffset.UtcNow;
        var values = new JsonArray();
        foreach (var result in Results)
        {
            var left = timeout is { } total ? total - (DateTimeOffset.UtcNow - started) : (TimeSpan?)null;
            if (left is { } remaining && remaining < TimeSpan.Zero)
            {
                throw new TimeoutException($"group {Id}: member {result.Id} was not ready within {timeout}");
            }

            values.Add((await result.GetAsync(left, propagate, cancellationToken).ConfigureAwait(false))?.DeepClone());
        }

        return values;
    }

    /// <summary>Celery's <c>as_tuple()</c>: <c>[[id, null], [[[member, null], null], ...]]</c>.</summary>
    public JsonArray AsTuple() => GroupTuple.Build(Id, [.. Results.Select(r => r.Id)]);

    public override string ToString() => Id;
}
