using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>A handle on one task's result, as Celery's <c>AsyncResult</c>: state, wait with timeout, propagate, forget.</summary>
public sealed class AsyncResult
{
    private readonly IResultBackend backend;

    public AsyncResult(string id, IResultBackend backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(backend);
        Id = id;
        this.backend = backend;
    }

    public string Id { get; }

    /// <summary>The current state; PENDING when the backend knows nothing of the task.</summary>
    public async Task<string> GetStateAsync(CancellationToken cancellationToken = default) =>
        (await backend.GetAsync(Id, cancellationToken).ConfigureAwait(false))?.Status ?? TaskStates.Pending;

    public async Task<bool> ReadyAsync(CancellationToken cancellationToken = default) =>
        TaskStates.IsReady(await GetStateAsync(cancellationToken).ConfigureAwait(false));

    public async Task<bool> SuccessfulAsync(CancellationToken cancellationToken = default) =>
        await GetStateAsync(cancellationToken).ConfigureAwait(false) == TaskStates.Success;

    public async Task<bool> FailedAsync(CancellationToken cancellationToken = default) =>
        await GetStateAsync(cancellationToken).ConfigureAwait(false) == TaskStates.Failure;

    public Task<bool> ForgetAsync(CancellationToken cancellationToken = default) => backend.ForgetAsync(Id, cancellationToken);

    /// <summary>
    /// Waits until the task is ready and returns its JSON result. With <paramref name="propagate"/> a failed
    /// task raises <see cref="TaskFailedException"/> and a revoked one <see cref="TaskRevokedException"/>;
    /// without it their exception object is returned.
    /// </summary>
    /// <exception cref="TimeoutException">Not ready within <paramref name="timeout"/>; names the task and the timeout.</exception>
    public async Task<JsonNode?> GetAsync(TimeSpan? timeout = null, bool propagate = true, CancellationToken cancellationToken = default)
    {
        var result = await backend.WaitAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
        if (propagate && TaskStates.Propagates(result.Status))
        {
            var exception = ExceptionInfo.FromJson(result.Result, Id);
            throw result.Status == TaskStates.Revoked
                ? new TaskRevokedException(Id, exception)
                : new TaskFailedException(Id, exception, result.Traceback);
        }

        return result.Result;
    }

    /// <summary>As <see cref="GetAsync(TimeSpan?, bool, CancellationToken)"/>, converting the return value to <typeparamref name="T"/>.</summary>
    /// <exception cref="ResultFormatException">The value does not convert to <typeparamref name="T"/>.</exception>
    public async Task<T?> GetAsync<T>(TimeSpan? timeout = null, bool propagate = true, CancellationToken cancellationToken = default)
    {
        var value = await GetAsync(timeout, propagate, cancellationToken).ConfigureAwait(false);
        try
        {
            return value is null ? default : value.Deserialize<T>();
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ResultFormatException(Id, "result", $"cannot convert {value!.ToJsonString()} to {typeof(T).Name}: {e.Message}", e);
        }
    }

    public override string ToString() => Id;
}
