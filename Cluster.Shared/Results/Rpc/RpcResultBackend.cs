using System.Text;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Results.Rpc;

/// <summary>The <c>rpc://</c> result backend: results travel as messages to the sending client's reply queue, as Celery's do.</summary>
/// <remarks>
/// The worker side publishes Celery's rpc body (<c>task_id, status, result, traceback, children</c>) to exchange
/// <c>""</c> with the task's reply_to as routing key, its correlation_id, delivery mode 1 and priority 0. The client side
/// declares its reply queue (non-durable, auto-delete, <c>x-expires</c> = result expiry), consumes it without acks, and
/// keeps the latest state of every task it hears of, so results for tasks nobody waits on yet are buffered.
/// Results live in this process only: another client, or this one after a restart, cannot read them (as in Celery).
/// It works over any transport, since it only publishes and consumes.
/// </remarks>
public sealed class RpcResultBackend : IResultBackend
{
    private readonly ITransport transport;
    private readonly ResultSettings settings;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly RpcResultBuffer buffer;
    private readonly ResultWaiters waiters = new();
    private readonly RpcReplyListener listener;

    /// <summary>A backend on <paramref name="transport"/>; <paramref name="replyQueue"/> names the client's reply queue, a fresh UUID when null, as Celery names one per client.</summary>
    public RpcResultBackend(ITransport transport, ResultSettings settings, string? replyQueue = null, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        this.transport = transport;
        this.settings = settings;
        this.time = time ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
        ReplyQueue = replyQueue ?? Uuid.NewId();
        buffer = new RpcResultBuffer(settings.Expires, this.time);
        listener = new RpcReplyListener(transport, ReplyQueue, settings.Expires, OnReply, this.logger);
    }

    /// <summary>The queue this client's results arrive on.</summary>
    public string ReplyQueue { get; }

    /// <summary>Publishes the result to the task's reply queue.</summary>
    /// <exception cref="ArgumentException">The result has no <see cref="TaskResult.ReplyTo"/>: its task was sent without a reply queue.</exception>
    public async Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureStorable();
        if (string.IsNullOrEmpty(result.ReplyTo))
        {
            throw new ArgumentException(
                $"The rpc:// result of task '{result.TaskId}' has nowhere to go: the task message had no reply_to, so its client is not listening for results.",
                nameof(result));
        }

        var message = new Envelope
        {
            Body = Encoding.UTF8.GetBytes(TaskResultJson.Serialize(result, TaskResultLayout.RpcBody)),
            Properties = MessageProperties.Json with
            {
                DeliveryMode = 1,
                Priority = 0,
                CorrelationId = result.CorrelationId ?? result.TaskId,
            },
        };
        await transport.PublishAsync("", result.ReplyTo, message, cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The latest state received for the task; null (PENDING) when none arrived on this client's reply queue.</summary>
    public Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return Task.FromResult(buffer.Get(taskId));
    }

    public async Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        return await waiters.WaitAsync(taskId, ct => GetAsync(taskId, ct), timeout, pollInterval: null, time, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Waits for every task's ready result, in the order of <paramref name="taskIds"/>, within one shared timeout.</summary>
    /// <exception cref="TimeoutException">Some result was not ready in time; the message names the first such task.</exception>
    public async Task<IReadOnlyList<TaskResult>> GetManyAsync(IEnumerable<string> taskIds, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var ids = taskIds.ToList();
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        return await Task.WhenAll(ids.Select(id => WaitAsync(id, timeout, cancellationToken))).ConfigureAwait(false);
    }

    public Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return Task.FromResult(buffer.Remove(taskId));
    }

    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Task.FromResult(buffer.Sweep(now));

    public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default) =>
        throw NoGroups();

    public Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default) =>
        throw NoGroups();

    public Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default) => Task.FromResult(false);

    public bool CountsChordParts => false;

    public Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default) =>
        throw NoGroups();

    public async ValueTask<string?> ReplyQueueAsync(CancellationToken cancellationToken = default)
    {
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        return ReplyQueue;
    }

    public ValueTask DisposeAsync() => listener.DisposeAsync();

    /// <summary>As in Celery: rpc:// results are reply messages to one client, so there is no store to keep a group or count a chord in.</summary>
    internal static NotSupportedException NoGroups() =>
        new("the rpc:// result backend keeps no groups and cannot join chords, as its results are reply messages to the sender; use a result store (sqlite://, postgresql:// or file://)");

    private void OnReply(Delivery delivery)
    {
        var properties = delivery.Message.Properties;
        if (properties.ContentType != "application/json")
        {
            logger.LogWarning("Dropped a result on reply queue {Queue} with content type '{ContentType}'; only application/json is accepted",
                ReplyQueue, properties.ContentType);
            return;
        }

        TaskResult result;
        try
        {
            result = TaskResultJson.Parse(Encoding.UTF8.GetString(delivery.Message.Body.Span), properties.CorrelationId);
        }
        catch (ResultFormatException e)
        {
            logger.LogWarning(e, "Dropped an unreadable result on reply queue {Queue}", ReplyQueue);
            return;
        }

        // Celery matches results by correlation_id, which is the task id unless the sender chose another.
        var taskId = string.IsNullOrEmpty(properties.CorrelationId) ? result.TaskId : properties.CorrelationId;
        if (buffer.Put(result with { TaskId = taskId, DateDone = result.DateDone ?? time.GetUtcNow().UtcDateTime }))
        {
            waiters.Notify(taskId);
        }
    }
}
