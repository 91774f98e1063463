namespace ClusterQueue.Fabric.Control;

/// <summary>The fixed reply texts of Celery 5.2.6's control commands, so every node answers word for word as a Python worker.</summary>
public static class ControlReplies
{
    public static ControlResponse Pong => ControlResponse.Ok("pong");

    /// <summary><c>heartbeat</c> replies null; the worker sends a <c>worker-heartbeat</c> event at once.</summary>
    public static ControlResponse Heartbeat => ControlResponse.Reply(null);

    /// <summary><c>shutdown</c> never replies.</summary>
    public static ControlResponse Shutdown => ControlResponse.NoReply;

    public static ControlResponse Revoked(IEnumerable<string> taskIds) => ControlResponse.Ok($"tasks {string.Join(", ", taskIds)} flagged as revoked");

    /// <summary><c>revoke</c> with terminate: the ids whose running requests were signalled, or none.</summary>
    public static ControlResponse Terminated(IReadOnlyCollection<string> terminatedIds) =>
        ControlResponse.Ok(terminatedIds.Count == 0 ? "terminate: tasks unknown" : $"terminate: {string.Join(", ", terminatedIds)}");

    public static ControlResponse RateLimitSet => ControlResponse.Ok("new rate limit set successfully");

    public static ControlResponse RateLimitDisabled => ControlResponse.Ok("rate limit disabled successfully");

    public static ControlResponse UnknownTask => ControlResponse.Error("unknown task");

    public static ControlResponse TimeLimitsSet => ControlResponse.Ok("time limits set successfully");

    public static ControlResponse ConsumerAdded(string queue) => ControlResponse.Ok($"add consumer {queue}");

    public static ControlResponse AlreadyConsuming(string queue) => ControlResponse.Ok($"already consuming from {queue}");

    public static ControlResponse ConsumerCancelled(string queue) => ControlResponse.Ok($"no longer consuming from {queue}");

    public static ControlResponse PoolWillGrow => ControlResponse.Ok("pool will grow");

    public static ControlResponse PoolWillShrink => ControlResponse.Ok("pool will shrink");

    /// <summary>pool_grow or pool_shrink on an autoscaling pool.</summary>
    public static ControlResponse PoolResizeNotSupported(string method) =>
        ControlResponse.Error($"{method} is not supported with autoscale. Adjust autoscale range instead.");

    public static ControlResponse AutoscaleNow(int max, int min) => ControlResponse.Ok($"autoscale now max={max} min={min}");

    /// <summary>Celery raises here rather than replying nok, so the text is an exception repr.</summary>
    public static ControlCommandException AutoscaleNotEnabled => new("ValueError", "Autoscale not enabled");

    public static ControlResponse TaskEventsEnabled(bool wasEnabled) =>
        ControlResponse.Ok(wasEnabled ? "task events already enabled" : "task events enabled");

    public static ControlResponse TaskEventsDisabled(bool wasDisabled) =>
        ControlResponse.Ok(wasDisabled ? "task events already disabled" : "task events disabled");
}
