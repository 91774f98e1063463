using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Canvas;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Client;

/// <summary>
/// The client side of ClusterQueue, like a Celery app: it knows the tasks, routes them to queues, publishes task
/// messages in Celery's format and hands back <see cref="AsyncResult"/>s to read their results.
/// </summary>
public sealed class ClusterQueueApp : IAsyncDisposable
{
    private static readonly JsonSerializerOptions ArgumentJson = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, Task> _declaredQueues = new(StringComparer.Ordinal);
    private readonly IResultBackend? _results;
    private CanvasPublisher? _canvas;
    private readonly bool _ownsConnections;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ClusterQueueApp(
        ITransport transport,
        IResultBackend? results = null,
        TaskRegistry? tasks = null,
        PublishSettings? settings = null,
        ILoggerFactory? logging = null,
        TimeProvider? time = null)
        : this(transport, results, tasks, settings, logging, time, ownsConnections: false)
    {
    }

    private ClusterQueueApp(
        ITransport transport,
        IResultBackend? results,
        TaskRegistry? tasks,
        PublishSettings? settings,
        ILoggerFactory? logging,
        TimeProvider? time,
        bool ownsConnections)
    {
        Transport = transport;
        _results = results;
        Tasks = tasks ?? new TaskRegistry();
        Settings = settings ?? new PublishSettings();
        _time = time ?? TimeProvider.System;
        _ownsConnections = ownsConnections;
        _logger = (logging ?? NullLoggerFactory.Instance).CreateLogger<ClusterQueueApp>();
        Routes = new TaskRoutes();
        foreach (var route in Settings.Routes)
        {
            Routes.Add(route.Task, route.Queue);
        }

        Codec = new TaskMessageCodec(new TaskMessageCodecOptions
        {
            MaxBodyBytes = Settings.MaxMessageSize,
            Serializer = Settings.Serializer,
            Accept = Settings.AcceptContent.Select(ContentTypes.FromName).ToHashSet(StringComparer.Ordinal),
            Compression = string.IsNullOrWhiteSpace(Settings.Compression) ? null : Settings.Compression,
            Signing = Settings.Security.IsSet ? Settings.Security.Load() : null,
            Clock = _time,
        });
    }

    /// <summary>Opens the broker and result backend named in the settings; the app disposes them with itself.</summary>
    public static ClusterQueueApp Open(
        BrokerSettings broker,
        ResultSettings? result = null,
        PublishSettings? publish = null,
        TaskRegistry? tasks = null,
        ILoggerFactory? logging = null,
        TransportRegistry? transports = null)
    {
        var transport = (transports ?? TransportRegistry.CreateDefault()).Open(broker, logging);
        try
        {
            var results = result is null ? null : ResultBackends.Open(result, transport: transport);
            return new ClusterQueueApp(transport, results, tasks, publish, logging, time: null, ownsConnections: true)
            {
                ResultSweepInterval = results is null ? null : result!.SweepInterval,
            };
        }
        catch
        {
            transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public ITransport Transport { get; }

    /// <summary>
    /// How often a worker on this app deletes expired results (<c>cluster-queue.result.sweep-interval</c>); null when
    /// the app was given a backend it did not open, whose owner sweeps it.
    /// </summary>
    public TimeSpan? ResultSweepInterval { get; private init; }

    public TaskRegistry Tasks { get; }

    public PublishSettings Settings { get; }

    public TaskRoutes Routes { get; }

    /// <summary>Encodes and decodes task messages with this app's serializer, accept list, size limit and compression.</summary>
    public TaskMessageCodec Codec { get; }

    /// <summary>The result backend; asking for it when none is configured is an error that names the setting.</summary>
    public IResultBackend Results => _results
        ?? throw new InvalidOperationException("no result backend is configured (set cluster-queue.result.backend)");

    public bool HasResultBackend => _results is not null;

    /// <summary>A handle on the result of the task <paramref name="taskId"/>.</summary>
    public AsyncResult AsyncResult(string taskId) => new(taskId, Results);

    /// <summary>Celery's <c>send_task</c>: sends a task by name, whether or not this process knows it.</summary>
    public async Task<AsyncResult> SendTaskAsync(
        string name,
        JsonArray? args = null,
        JsonObject? kwargs = null,
        SendOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= SendOptions.Default;
        var replyQueue = _results is null ? null : await _results.ReplyQueueAsync(cancellationToken).ConfigureAwait(false);
        var message = BuildMessage(name, args ?? [], kwargs ?? [], options, replyQueue);
        await PublishAsync(message, options.Queue, options.Exchange, options.RoutingKey, cancellationToken).ConfigureAwait(false);
        return new AsyncResult(message.Id, _results ?? NoResultBackend.Instance);
    }

    /// <summary>Applies canvas signatures as Celery does; what <see cref="ApplyAsync(Signature, CancellationToken)"/> uses.</summary>
    public CanvasPublisher Canvas => _canvas ??= new CanvasPublisher(this);

    /// <summary>
    /// Celery's <c>sig.apply_async()</c> for a task, chain or chord signature (<see cref="Workflow"/>): the handle on
    /// the result it ends in (a chain's last step, a chord's body).
    /// </summary>
    /// <exception cref="ArgumentException">The workflow ends in a group; use <see cref="ApplyGroupAsync"/>.</exception>
    /// <exception cref="NotSupportedException">It holds a chord and the result backend cannot join one (rpc://).</exception>
    public async Task<AsyncResult> ApplyAsync(Signature signature, CancellationToken cancellationToken = default)
    {
        var frozen = CanvasPublisher.Freeze(signature);
        var (id, isGroup) = CanvasPublisher.FinalResultOf(frozen);
        if (isGroup)
        {
            throw new ArgumentException($"{signature.Task} ends in a group, whose result is a GroupResult: use ApplyGroupAsync", nameof(signature));
        }

        await Canvas.ApplyAsync(frozen, null, Lineage.None, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new AsyncResult(id, _results ?? NoResultBackend.Instance);
    }

    /// <summary>Celery's <c>group(...).apply_async()</c> (or a chain ending in a group): the handle on every member's result.</summary>
    /// <exception cref="ArgumentException">The signature does not end in a group.</exception>
    public async Task<GroupResult> ApplyGroupAsync(Signature signature, CancellationToken cancellationToken = default)
    {
        var frozen = CanvasPublisher.Freeze(signature);
        var (id, isGroup) = CanvasPublisher.FinalResultOf(frozen);
        if (!isGroup)
        {
            throw new ArgumentException($"{signature.Task} does not end in a group: use ApplyAsync", nameof(signature));
        }

        await Canvas.ApplyAsync(frozen, null, Lineage.None, cancellationToken: cancellationToken).ConfigureAwait(false);
        var backend = _results ?? NoResultBackend.Instance;
        var members = Workflow.MembersOf(CanvasPublisher.FinalOf(frozen), signature.Task);
        return new GroupResult(id, [.. members.Select(m => new AsyncResult(CanvasPublisher.FinalResultOf(m).Id, backend))], backend);
    }

    /// <summary>Celery's <c>GroupResult.restore(id)</c>.</summary>
    public Task<GroupResult?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default) =>
        GroupResult.RestoreAsync(groupId, Results, cancellationToken);

    /// <summary>Celery's <c>delay(*args)</c>, with .NET values serialized to JSON.</summary>
    public Task<AsyncResult> DelayAsync(string name, params object?[] args) => ApplyAsync(name, args);

    /// <summary>Celery's <c>apply_async(args, kwargs, **options)</c>, with .NET values serialized to JSON.</summary>
    public Task<AsyncResult> ApplyAsync(
        string name,
        IEnumerable<object?> args,
        IReadOnlyDictionary<string, object?>? kwargs = null,
        SendOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var jsonArgs = new JsonArray(args.Select(ToNode).ToArray());
        var jsonKwargs = new JsonObject();
        foreach (var (key, value) in kwargs ?? new Dictionary<string, object?>())
        {
            jsonKwargs[key] = ToNode(value);
        }

        return SendTaskAsync(name, jsonArgs, jsonKwargs, options, cancellationToken);
    }

    /// <summary>
    /// Publishes a ready message, as a worker does for a retry or the next link of a chain. Without an exchange the
    /// message goes through the default exchange straight to its queue, as Celery does for direct queues.
    /// </summary>
    public async ValueTask PublishAsync(
        TaskMessage message,
        string? queue = null,
        string? exchange = null,
        string? routingKey = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var activity = ClusterQueueTelemetry.Source.StartActivity($"publish {message.Task}", ActivityKind.Producer);
        activity?.SetTag("celery.task_name", message.Task);
        activity?.SetTag("celery.task_id", message.Id);
        message = message with { ExtraHeaders = ClusterQueueTelemetry.WithTraceContext(message.ExtraHeaders, activity ?? Activity.Current) };
        var envelope = Codec.Encode(message);
        string targetExchange, targetKey;
        if (!string.IsNullOrEmpty(exchange))
        {
            targetExchange = exchange;
            targetKey = routingKey ?? queue ?? "";
        }
        else
        {
            var targetQueue = queue ?? QueueFor(message.Task);
            await DeclareQueueAsync(targetQueue, cancellationToken).ConfigureAwait(false);
            targetExchange = "";
            targetKey = targetQueue;
        }

        var now = _time.GetUtcNow();
        var publish = message.Eta is { } eta && eta > now ? new PublishOptions { NotBefore = eta } : null;
        await PublishWithRetryAsync(targetExchange, targetKey, envelope, publish, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The queue a task goes to: the first matching route, the task's own queue, or the default queue.</summary>
    public string QueueFor(string taskName) =>
        Routes.QueueFor(taskName)
        ?? (Tasks.TryGet(taskName, out var task) ? task.Options.Queue : null)
        ?? Settings.DefaultQueue;

    /// <summary>
    /// Declares a task queue as Celery does: durable, bound to a direct exchange of the same name (or the default
    /// exchange for the default queue) with the queue name as routing key. Each queue is declared once per app.
    /// </summary>
    public Task DeclareQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        _declaredQueues.GetOrAdd(queue, name => DeclareCeleryQueueAsync(name, cancellationToken));

    public async ValueTask DisposeAsync()
    {
        if (!_ownsConnections)
        {
            return;
        }

        // The rpc backend consumes through the transport, so it goes first.
        if (_results is not null)
        {
            await _results.DisposeAsync().ConfigureAwait(false);
        }

        await Transport.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DeclareCeleryQueueAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            var isDefault = queue == Settings.DefaultQueue;
            var exchange = isDefault ? Settings.DefaultExchange : queue;
            var routingKey = isDefault ? Settings.DefaultRoutingKey : queue;
            await Transport.DeclareExchangeAsync(new ExchangeDeclaration(exchange, ParseExchangeType(Settings.DefaultExchangeType)), cancellationToken).ConfigureAwait(false);
            await Transport.DeclareQueueAsync(new QueueDeclaration(queue), cancellationToken).ConfigureAwait(false);
            await Transport.BindQueueAsync(new QueueBinding(queue, exchange, routingKey), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A failed declaration must be tried again by the next publish, not cached as done.
            _declaredQueues.TryRemove(queue, out _);
            throw;
        }
    }

    private async ValueTask PublishWithRetryAsync(
        string exchange,
        string routingKey,
        Envelope envelope,
        PublishOptions? options,
        TaskMessage message,
        CancellationToken cancellationToken)
    {
        if (!Settings.Retry)
        {
            await Transport.PublishAsync(exchange, routingKey, envelope, options, cancellationToken).ConfigureAwait(false);
            return;
        }

        await Settings.RetryPolicy.ExecuteAsync(
            async ct =>
            {
                await Transport.PublishAsync(exchange, routingKey, envelope, options, ct).ConfigureAwait(false);
                return true;
            },
            e =>
            {
                if (e is TransportException)
                {
                    _logger.LogWarning(e, "Publishing {Task}[{TaskId}] failed; retrying", message.Task, message.Id);
                    return true;
                }

                return false;
            },
            $"publish {message.Task}[{message.Id}]",
            _time,
            cancellationToken).ConfigureAwait(false);
    }

    internal TaskMessage BuildMessage(string name, JsonArray args, JsonObject kwargs, SendOptions options, string? replyQueue)
    {
        var now = _time.GetUtcNow();
        var id = options.TaskId ?? Uuid.NewId();
        var taskOptions = Tasks.TryGet(name, out var known) ? known.Options : null;
        var eta = options.Eta ?? (options.Countdown is { } countdown ? now + countdown : null);
        var expires = options.Expires ?? (options.ExpiresIn is { } expiresIn ? now + expiresIn : null);
        var hard = options.TimeLimit ?? taskOptions?.TimeLimit;
        var soft = options.SoftTimeLimit ?? taskOptions?.SoftTimeLimit;
        return new TaskMessage
        {
            Task = name,
            Id = id,
            Eta = eta,
            Expires = expires,
            Group = options.Group,
            TimeLimit = new TimeLimits(hard?.TotalSeconds, soft?.TotalSeconds),
            RootId = options.RootId ?? id,
            ParentId = options.ParentId,
            IgnoreResult = options.IgnoreResult ?? taskOptions?.IgnoreResult ?? false,
            ExtraHeaders = options.Headers?.ToList() ?? [],
            Serializer = options.Serializer,
            Compression = options.Compression,
            CorrelationId = id,
            ReplyTo = options.ReplyTo ?? replyQueue ?? "",
            Priority = options.Priority ?? 0,
            // A relative expiry travels as Celery sends it, str(int(seconds * 1000)), not re-derived at encode time.
            Expiration = options.Expires is null && options.ExpiresIn is { } ttl
                ? ((long)ttl.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : null,
            DeliveryMode = string.Equals(Settings.DefaultDeliveryMode, "transient", StringComparison.OrdinalIgnoreCase) ? (byte)1 : (byte)2,
            Args = args,
            Kwargs = kwargs,
            Embed = options.Link is null && options.LinkError is null
                ? TaskEmbed.None
                : new TaskEmbed { Callbacks = options.Link, Errbacks = options.LinkError },
        };
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        _ => JsonSerializer.SerializeToNode(value, value.GetType(), ArgumentJson),
    };

    private static ExchangeType ParseExchangeType(string type) =>
        Enum.TryParse<ExchangeType>(type, ignoreCase: true, out var parsed)
            ? parsed
            : throw new ArgumentException($"cluster-queue.publish.default-exchange-type: unknown exchange type '{type}'; expected direct, topic, fanout or headers");

    /// <summary>Stands in when no backend is configured, so that a fire-and-forget send needs none; reading it is a clear error.</summary>
    private sealed class NoResultBackend : IResultBackend
    {
        public static readonly NoResultBackend Instance = new();

        private static InvalidOperationException Missing() =>
            new("no result backend is configured (set cluster-queue.result.backend)");

        public Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default) => throw Missing();

        public Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default) => throw Missing();

        public Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default) => throw Missing();

        public Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default) => throw Missing();

        public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) => throw Missing();

        public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default) => throw Missing();

        public Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default) => throw Missing();

        public Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default) => throw Missing();

        public bool CountsChordParts => false;

        public Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default) => throw Missing();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>Maps Celery's serializer names (<c>json</c>) to content types (<c>application/json</c>).</summary>
public static class ContentTypes
{
    public static string FromName(string name) => BodySerializers.ContentTypeOf(name);
}
