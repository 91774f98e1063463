using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Control;

/// <summary>Which nodes a broadcast addresses: a list of names, a pattern with its matcher, or every node.</summary>
public sealed record ControlTarget(IReadOnlyList<string>? Destination = null, string? Pattern = null, string? Matcher = null)
{
    public static ControlTarget All { get; } = new();

    public static ControlTarget Nodes(params string[] names) => new(Destination: names);
}

/// <summary>
/// Carries remote-control requests to the nodes and gathers their replies. Two carriers share one handler set on the
/// nodes and Celery's reply shapes: the broker's pidbox (<see cref="PidboxClient"/>), which Celery's own tools use, and
/// the cluster (<see cref="ClusterPlane.ClusterControlClient"/>), which works on every broker.
/// </summary>
public interface IControlCarrier : IAsyncDisposable
{
    /// <summary><c>cluster</c> or <c>broker</c>: which plane the requests travel on.</summary>
    string Carrier { get; }

    /// <summary>
    /// Sends <paramref name="method"/> and, when <paramref name="reply"/> is set, gathers replies until
    /// <paramref name="timeout"/> (the configured reply timeout by default) or until <paramref name="limit"/> replies
    /// arrived; the limit defaults to the number of destination names, and is unbounded without a destination.
    /// </summary>
    Task<IReadOnlyList<ControlReply>> BroadcastAsync(
        string method,
        JsonObject? arguments = null,
        ControlTarget? target = null,
        bool reply = true,
        TimeSpan? timeout = null,
        int? limit = null,
        CancellationToken cancellationToken = default);
}

/// <summary>Celery's <c>app.control</c> and <c>inspect()</c> commands, on either carrier.</summary>
public static class ControlCommands
{
    /// <summary><c>ping</c>: each node answers <c>{"ok": "pong"}</c>.</summary>
    public static Task<IReadOnlyList<ControlReply>> PingAsync(this IControlCarrier carrier, ControlTarget? target = null, TimeSpan? timeout = null, int? limit = null, bool reply = true, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("ping", [], target, reply, timeout, limit, cancellationToken);

    /// <summary>An inspect command (<c>active</c>, <c>reserved</c>, <c>stats</c>...) with the arguments Celery's <c>inspect()</c> sends for it.</summary>
    public static Task<IReadOnlyList<ControlReply>> InspectAsync(this IControlCarrier carrier, string method, ControlTarget? target = null, TimeSpan? timeout = null, int? limit = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync(method, InspectArguments(method), target, true, timeout, limit, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> QueryTaskAsync(this IControlCarrier carrier, IReadOnlyList<string> ids, ControlTarget? target = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("query_task", new QueryTaskArguments(ids).ToJson(), target, true, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> RevokeAsync(this IControlCarrier carrier, IReadOnlyList<string> taskIds, bool terminate = false, string signal = "SIGTERM", ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("revoke", new RevokeArguments(taskIds, terminate, signal).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> RateLimitAsync(this IControlCarrier carrier, string taskName, string? rateLimit, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("rate_limit", new RateLimitArguments(taskName, rateLimit).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> TimeLimitAsync(this IControlCarrier carrier, string taskName, double? soft = null, double? hard = null, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("time_limit", new TimeLimitArguments(taskName, hard, soft).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> AddConsumerAsync(this IControlCarrier carrier, string queue, string? exchange = null, string exchangeType = "direct", string? routingKey = null, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("add_consumer", new AddConsumerArguments(queue, exchange, exchangeType, routingKey).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> CancelConsumerAsync(this IControlCarrier carrier, string queue, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("cancel_consumer", new CancelConsumerArguments(queue).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> PoolGrowAsync(this IControlCarrier carrier, int n = 1, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("pool_grow", new PoolResizeArguments(n).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> PoolShrinkAsync(this IControlCarrier carrier, int n = 1, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("pool_shrink", new PoolResizeArguments(n).ToJson(), target, reply, timeout, null, cancellationToken);

    public static Task<IReadOnlyList<ControlReply>> AutoscaleAsync(this IControlCarrier carrier, int max, int min, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync("autoscale", new AutoscaleArguments(max, min).ToJson(), target, reply, timeout, null, cancellationToken);

    /// <summary><c>enable_events</c>, <c>disable_events</c>, <c>heartbeat</c>, <c>shutdown</c> and other commands without arguments.</summary>
    public static Task<IReadOnlyList<ControlReply>> CommandAsync(this IControlCarrier carrier, string method, ControlTarget? target = null, bool reply = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        carrier.BroadcastAsync(method, [], target, reply, timeout, null, cancellationToken);

    /// <summary>The arguments Celery 5.2.6's <c>inspect()</c> sends for each method (interop note 26).</summary>
    public static JsonObject InspectArguments(string method) => method switch
    {
        "active" => new ActiveArguments().ToJson(),
        "registered" => new RegisteredArguments([]).ToJson(),
        "conf" => new ConfArguments().ToJson(),
        _ => [],
    };
}
