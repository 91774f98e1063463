using System.Text.Json.Nodes;
using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Worker;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Fabric;

/// <summary>
/// The remote-control commands that touch a worker's own state (pool, consumers, requests, limits), in Celery 5.2.6's
/// reply shapes, on top of the fabric's own ping, clock, revoked, revoke and hello.
/// </summary>
internal sealed class WorkerControlHandlers
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    private readonly NodeServices _node;
    private readonly NodeFabric _fabric;
    private readonly IActorRef _supervisor;
    private readonly Action _warmShutdown;

    public WorkerControlHandlers(NodeServices node, NodeFabric fabric, IActorRef supervisor, Action warmShutdown)
    {
        _node = node;
        _fabric = fabric;
        _supervisor = supervisor;
        _warmShutdown = warmShutdown;
    }

    /// <summary>Whether the node has an autoscaler: fixed at start, as Celery's is.</summary>
    private bool Autoscaling => _node.Settings.Autoscale.Enabled;

    /// <summary>Every command the node answers.</summary>
    public ControlHandlerRegistry CreateRegistry()
    {
        var registry = new ControlHandlerRegistry(
        [
            FabricControlHandlers.Ping(),
            FabricControlHandlers.Clock(_fabric.Clock),
            FabricControlHandlers.Revoked(_fabric.Revoked),
            FabricControlHandlers.Revoke(_fabric.Revoked, TerminateAsync),
            new ClusterQueue.Fabric.Revocation.HelloHandler(_node.Name, _fabric.Revoked, _fabric.Clock),
            FabricControlHandlers.Heartbeat(_fabric.Events),
            FabricControlHandlers.EnableEvents(_fabric.Events),
            FabricControlHandlers.DisableEvents(_fabric.Events),
            FabricControlHandlers.Members(() => ClusterQueue.Fabric.ClusterPlane.ClusterMembers.Snapshot(_fabric.System)),
        ]);
        registry
            .Add(Handler("active", ActiveAsync))
            .Add(Handler("reserved", ReservedAsync))
            .Add(Handler("scheduled", ScheduledAsync))
            .Add(Handler("query_task", QueryTaskAsync))
            .Add(Handler("registered", Registered))
            .Add(Handler("stats", StatsAsync))
            .Add(Handler("active_queues", ActiveQueuesAsync))
            .Add(Handler("conf", Conf))
            .Add(Handler("rate_limit", RateLimit))
            .Add(Handler("time_limit", TimeLimit))
            .Add(Handler("add_consumer", AddConsumerAsync))
            .Add(Handler("cancel_consumer", CancelConsumerAsync))
            .Add(Handler("pool_grow", request => ResizeAsync(request, grow: true)))
            .Add(Handler("pool_shrink", request => ResizeAsync(request, grow: false)))
            .Add(Handler("autoscale", AutoscaleAsync))
            .Add(Handler("shutdown", Shutdown));
        return registry;
    }

    private static DelegateControlHandler Handler(string method, Func<ControlRequest, Task<ControlResponse>> handle) =>
        new(method, async (request, _) => await handle(request).ConfigureAwait(false));

    private static DelegateControlHandler Handler(string method, Func<ControlRequest, ControlResponse> handle) =>
        new(method, (request, _) => ValueTask.FromResult(handle(request)));

    private async ValueTask<IReadOnlyCollection<string>> TerminateAsync(IReadOnlyList<string> ids, string signal, CancellationToken cancellationToken)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var terminated = new List<string>();
        foreach (var running in _node.Running.Snapshot().Where(r => wanted.Contains(r.Request.Id)))
        {
            _node.Log.LogInformation("Terminating {Task}[{TaskId}] ({Signal})", running.Request.Name, running.Request.Id, signal);
            await running.TerminateAsync().ConfigureAwait(false);
            terminated.Add(running.Request.Id);
        }

        return terminated;
    }

    private Task<WorkerTasks> TasksAsync() => _node.State.Ask<WorkerTasks>(GetWorkerTasks.Instance, AskTimeout);

    private async Task<ControlResponse> ActiveAsync(ControlRequest request)
    {
        var safe = ActiveArguments.Parse(request.Arguments).Safe ?? false;
        var tasks = await TasksAsync().ConfigureAwait(false);
        return ControlResponse.Reply(RequestInfo.ListToJson(tasks.Active.Select(t => Info(t, safe))));
    }

    private async Task<ControlResponse> ReservedAsync(ControlRequest request)
    {
        var tasks = await TasksAsync().ConfigureAwait(false);
        return ControlResponse.Reply(RequestInfo.ListToJson(tasks.Reserved.Select(t => Info(t, safe: false))));
    }

    private async Task<ControlResponse> ScheduledAsync(ControlRequest request)
    {
        var tasks = await TasksAsync().ConfigureAwait(false);
        return ControlResponse.Reply(ScheduledTaskInfo.ListToJson(tasks.Scheduled.Select(t =>
            new ScheduledTaskInfo(t.Eta ?? _node.Time.GetUtcNow(), t.Request.Message.Priority ?? 0, Info(t, safe: false)))));
    }

    private async Task<ControlResponse> QueryTaskAsync(ControlRequest request)
    {
        var ids = QueryTaskArguments.Parse(request.Arguments).Ids.ToHashSet(StringComparer.Ordinal);
        var tasks = await TasksAsync().ConfigureAwait(false);
        // Celery reports scheduled requests as reserved: both wait in the worker for their turn.
        var found = tasks.Active.Select(t => new QueriedTask("active", Info(t, safe: false)))
            .Concat(tasks.Reserved.Concat(tasks.Scheduled).Select(t => new QueriedTask("reserved", Info(t, safe: false))))
            .Where(t => ids.Contains(t.Request.Id));
        return ControlResponse.Reply(QueryTaskReply.ToJson(found));
    }

    /// <summary>Celery's <c>Request.info()</c>; with <c>safe</c> the args are their reprs.</summary>
    private RequestInfo Info(TaskSummary task, bool safe)
    {
        var request = task.Request;
        var message = request.Message;
        var active = request.StartedAt is not null;
        return new RequestInfo(
            request.Id,
            request.Name,
            safe ? JsonValue.Create(message.ArgsRepr ?? ClusterQueue.Protocol.PythonRepr.Args(message.Args)) : message.Args,
            safe ? JsonValue.Create(message.KwargsRepr ?? ClusterQueue.Protocol.PythonRepr.Kwargs(message.Kwargs)) : message.Kwargs,
            _node.Name,
            request.StartedAt is { } started ? (started - DateTimeOffset.UnixEpoch).TotalSeconds : null,
            Acknowledged: request.IsSettled || (active && !request.AcksLate),
            new DeliveryInfo(request.Delivery.Exchange, request.Delivery.RoutingKey, message.Priority ?? 0, request.Delivery.Redelivered),
            active ? Environment.ProcessId : null);
    }

    private ControlResponse Registered(ControlRequest request)
    {
        var arguments = RegisteredArguments.Parse(request.Arguments);
        var tasks = _node.TaskCode.Registry.Tasks.Select(t => new RegisteredTask(t.Name, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["rate_limit"] = _node.Overrides.RateLimitOf(t)?.Text,
        }));
        return ControlResponse.Reply(RegisteredTask.ListToJson(tasks, arguments));
    }

    private async Task<ControlResponse> StatsAsync(ControlRequest request)
    {
        JsonObject? autoscaler = null;
        if (Autoscaling)
        {
            var state = await _supervisor.Ask<AutoscaleState>(GetAutoscaleState.Instance, AskTimeout).ConfigureAwait(false);
            autoscaler = AutoscalerInfo(state);
        }

        var stats = new ClusterQueue.Fabric.Control.WorkerStats(
            [.. _node.TotalByTask.OrderBy(t => t.Key, StringComparer.Ordinal)],
            Environment.ProcessId,
            _fabric.Clock.Value,
            (long)(_node.Time.GetUtcNow() - _node.StartedAt).TotalSeconds,
            PoolStats(),
            BrokerStats.Describe(_node.Settings.Fabric.BrokerUrl, _node.App.Transport),
            _node.BasePrefetch,
            ResourceUsage.Current(),
            autoscaler);
        return ControlResponse.Reply(stats.ToJson());
    }

    /// <summary>Celery's <c>Autoscaler.info()</c>.</summary>
    private static JsonObject AutoscalerInfo(AutoscaleState state) => new()
    {
        ["max"] = state.Max,
        ["min"] = state.Min,
        ["current"] = state.Current,
        ["qty"] = state.Qty,
    };

    private JsonObject PoolStats()
    {
        var settings = _node.Settings;
        return new JsonObject
        {
            ["max-concurrency"] = _node.PoolSize,
            // Every slot is a thread of this process.
            ["processes"] = new JsonArray(Environment.ProcessId),
            ["max-tasks-per-child"] = settings.MaxTasksPerChild > 0 ? JsonValue.Create(settings.MaxTasksPerChild) : JsonValue.Create("N/A"),
            ["put-guarded-by-semaphore"] = false,
            ["timeouts"] = new JsonArray(LimitSeconds(settings.TaskSoftTimeLimit), LimitSeconds(settings.TaskTimeLimit)),
        };
    }

    /// <summary>Whole seconds as an int, as Python prints them; 0 means no limit.</summary>
    private static JsonNode? LimitSeconds(TimeSpan limit) => TaskExecution.SecondsNode(limit);

    private async Task<ControlResponse> ActiveQueuesAsync(ControlRequest request)
    {
        var queues = await _supervisor.Ask<QueuesChanged>(GetQueues.Instance, AskTimeout).ConfigureAwait(false);
        // A queue here is declared as kombu's Queue(name): a direct exchange of the same name and routing key.
        return ControlResponse.Reply(QueueInfo.ListToJson(queues.Queues.Select(q => new QueueInfo(q, new ExchangeInfo(q), q))));
    }

    private ControlResponse Conf(ControlRequest request)
    {
        _ = ConfArguments.Parse(request.Arguments);
        return ControlResponse.Reply(ConfReply.ToJson(_node.Settings.Fabric.Conf));
    }

    private ControlResponse RateLimit(ControlRequest request)
    {
        var arguments = RateLimitArguments.Parse(request.Arguments);
        var limit = CeleryRate.Parse(arguments.RateLimit);
        if (!_node.TaskCode.Registry.TryGet(arguments.TaskName, out _))
        {
            return ControlReplies.UnknownTask;
        }

        _node.Overrides.SetRateLimit(arguments.TaskName, limit);
        return limit is null ? ControlReplies.RateLimitDisabled : ControlReplies.RateLimitSet;
    }

    private ControlResponse TimeLimit(ControlRequest request)
    {
        var arguments = TimeLimitArguments.Parse(request.Arguments);
        if (!_node.TaskCode.Registry.TryGet(arguments.TaskName, out _))
        {
            return ControlReplies.UnknownTask;
        }

        _node.Overrides.SetTimeLimits(
            arguments.TaskName,
            arguments.Soft is { } soft ? TimeSpan.FromSeconds(soft) : null,
            arguments.Hard is { } hard ? TimeSpan.FromSeconds(hard) : null);
        return ControlReplies.TimeLimitsSet;
    }

    private async Task<ControlResponse> AddConsumerAsync(ControlRequest request)
    {
        var arguments = AddConsumerArguments.Parse(request.Arguments);
        var changed = await _supervisor.Ask<QueuesChanged>(new AddQueue(arguments.Queue), AskTimeout).ConfigureAwait(false);
        return changed.Changed ? ControlReplies.ConsumerAdded(arguments.Queue) : ControlReplies.AlreadyConsuming(arguments.Queue);
    }

    private async Task<ControlResponse> CancelConsumerAsync(ControlRequest request)
    {
        var arguments = CancelConsumerArguments.Parse(request.Arguments);
        await _supervisor.Ask<QueuesChanged>(new CancelQueue(arguments.Queue), AskTimeout).ConfigureAwait(false);
        // Celery answers the same whether or not it consumed the queue.
        return ControlReplies.ConsumerCancelled(arguments.Queue);
    }

    private async Task<ControlResponse> ResizeAsync(ControlRequest request, bool grow)
    {
        var n = PoolResizeArguments.Parse(request.Arguments).N;
        if (Autoscaling)
        {
            // Celery 5.2 refuses; its force_scale_up/down were removed in 4.4.6.
            return ControlReplies.PoolResizeNotSupported(grow ? "pool_grow" : "pool_shrink");
        }

        await _supervisor.Ask<PoolResized>(new ResizePool(grow ? n : -n), AskTimeout).ConfigureAwait(false);
        return grow ? ControlReplies.PoolWillGrow : ControlReplies.PoolWillShrink;
    }

    private async Task<ControlResponse> AutoscaleAsync(ControlRequest request)
    {
        var arguments = AutoscaleArguments.Parse(request.Arguments);
        if (!Autoscaling)
        {
            throw ControlReplies.AutoscaleNotEnabled;
        }

        var current = await _supervisor.Ask<AutoscaleState>(GetAutoscaleState.Instance, AskTimeout).ConfigureAwait(false);
        var max = arguments.Max ?? current.Max;
        var min = arguments.Min ?? current.Min;
        if (max < 1 || min < 0 || min > max)
        {
            throw new ControlArgumentException("max", $"and min must satisfy 0 <= min <= max and max >= 1, got max={max} min={min}");
        }

        var updated = await _supervisor.Ask<AutoscaleState>(new UpdateAutoscale(arguments.Max, arguments.Min), AskTimeout).ConfigureAwait(false);
        return ControlReplies.AutoscaleNow(updated.Max, updated.Min);
    }

    private ControlResponse Shutdown(ControlRequest request)
    {
        _node.Log.LogWarning("{Node}: warm shutdown requested by remote control", _node.Name);
        _warmShutdown();
        return ControlReplies.Shutdown;
    }
}
