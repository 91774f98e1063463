using System.Threading.Channels;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Fabric;

/// <summary>
/// Turns the node's task lifecycle into Celery task events and hands them to the dispatcher, which batches them as
/// <c>task.multi</c>. Events are raised on actor threads; one loop sends them, so they leave in the order they happened.
/// </summary>
internal sealed class TaskEventPublisher : IAsyncDisposable
{
    // Celery's resultrepr_maxsize for task-succeeded.
    private const int ResultReprMaxLength = 1024;

    // Many writers (executors, consumers), one sender; unbounded because a task event must never block an executor.
    private readonly Channel<ClusterEvent> _pending = Channel.CreateUnbounded<ClusterEvent>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly EventDispatcher _dispatcher;
    private readonly ILogger _log;
    private readonly Task _loop;

    public TaskEventPublisher(EventDispatcher dispatcher, ILogger log)
    {
        _dispatcher = dispatcher;
        _log = log;
        _loop = Task.Run(SendAllAsync);
    }

    public void Publish(TaskLifecycleEvent evt, TaskEventDetail detail)
    {
        // Checked here as well as in the dispatcher, so a node without -E does not build events it would drop.
        if (!_dispatcher.TaskEventsEnabled || ToClusterEvent(evt, detail) is not { } clusterEvent)
        {
            return;
        }

        _pending.Writer.TryWrite(clusterEvent);
    }

    /// <summary>The Celery event for a lifecycle step, with Celery's fields; null when Celery sends none.</summary>
    public static ClusterEvent? ToClusterEvent(TaskLifecycleEvent evt, TaskEventDetail detail)
    {
        if (string.IsNullOrEmpty(evt.TaskId))
        {
            return null;
        }

        var message = detail.Message;
        return evt.Kind switch
        {
            TaskEventKind.Received => new TaskReceivedEvent(
                evt.TaskId,
                evt.TaskName,
                message?.ArgsRepr ?? (message is null ? "()" : PythonRepr.Args(message.Args)),
                message?.KwargsRepr ?? (message is null ? "{}" : PythonRepr.Kwargs(message.Kwargs)),
                message?.RootId,
                message?.ParentId,
                message?.Retries ?? 0,
                message?.Eta is { } eta ? CeleryTime.Format(eta) : null,
                message?.Expires is { } expires ? CeleryTime.Format(expires) : null),
            TaskEventKind.Started => new TaskStartedEvent(evt.TaskId),
            TaskEventKind.Succeeded => new TaskSucceededEvent(evt.TaskId, PythonRepr.SafeRepr(detail.Result, ResultReprMaxLength), Seconds(evt.Runtime)),
            TaskEventKind.Failed => new TaskFailedEvent(evt.TaskId, ExceptionRepr(evt), detail.Traceback),
            TaskEventKind.Retried => new TaskRetriedEvent(evt.TaskId, ExceptionRepr(evt), detail.Traceback),
            // SIGTERM's number, as Celery reports a terminate.
            TaskEventKind.Revoked => new TaskRevokedEvent(evt.TaskId, detail.Terminated, detail.Terminated ? 15 : null, detail.Expired),
            // Celery reports an unregistered task as task-failed without a traceback, and sends nothing for an undecodable message.
            _ => evt.Exception is null ? null : new TaskFailedEvent(evt.TaskId, ExceptionRepr(evt), Traceback: null),
        };
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private static double Seconds(TimeSpan? runtime) => (runtime ?? TimeSpan.Zero).TotalSeconds;

    private static string ExceptionRepr(TaskLifecycleEvent evt) =>
        evt.Exception is { } info ? PythonRepr.Exception(info.ExcType, [.. info.ExcMessage.Select(a => a?.DeepClone())]) : "Exception()";

    private async Task SendAllAsync()
    {
        await foreach (var evt in _pending.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await _dispatcher.SendAsync(evt).ConfigureAwait(false);
            }
            catch (TransportException e)
            {
                // Lost, as a Python worker loses events while its broker is away.
                _log.LogWarning(e, "Could not send {Type} for {TaskId}", evt.Type, (evt as TaskEvent)?.Uuid);
            }
        }
    }
}
