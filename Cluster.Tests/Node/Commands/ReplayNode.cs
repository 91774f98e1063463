using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Tests.Fabric;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>
/// A pidbox node that answers each command with the reply a Celery 5.2.6 worker gave in the fixtures, and records the
/// requests it received, so command tests can check both what the CLI sends and how it prints a real worker's answer.
/// </summary>
public sealed class ReplayNode : IAsyncDisposable
{
    /// <summary>The fixture that holds Celery's reply to each command.</summary>
    public static readonly IReadOnlyDictionary<string, string> FixtureOf = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ping"] = "control-ping.json",
        ["active"] = "inspect-active-reserved-busy.json",
        ["reserved"] = "inspect-active-reserved-busy.json",
        ["scheduled"] = "task-countdown-expires-and-inspect-scheduled.json",
        ["revoked"] = "inspect-revoked.json",
        ["registered"] = "inspect-registered.json",
        ["stats"] = "inspect-stats.json",
        ["active_queues"] = "inspect-active-queues.json",
        ["conf"] = "inspect-conf.json",
        ["clock"] = "inspect-clock.json",
        ["query_task"] = "control-revoke-terminate-running-task.json",
        ["revoke"] = "control-revoke-pending-task.json",
        ["rate_limit"] = "control-rate-limit.json",
        ["time_limit"] = "control-time-limit.json",
        ["add_consumer"] = "control-add-consumer.json",
        ["cancel_consumer"] = "control-cancel-consumer.json",
        ["pool_grow"] = "control-pool-grow.json",
        ["pool_shrink"] = "control-pool-shrink.json",
        ["autoscale"] = "control-autoscale-not-enabled.json",
        ["enable_events"] = "control-enable-events.json",
        ["disable_events"] = "control-disable-events.json",
        ["heartbeat"] = "control-heartbeat.json",
    };

    private readonly PidboxNode node;
    private readonly ConcurrentQueue<ControlRequest> received = new();
    private readonly TaskCompletionSource<ControlRequest> shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ReplayNode(ITransport transport, string name, IReadOnlyDictionary<string, JsonNode?> replies)
    {
        var handlers = new ControlHandlerRegistry();
        foreach (var (method, value) in replies)
        {
            handlers.Add(new DelegateControlHandler(method, (request, _) =>
            {
                received.Enqueue(request);
                return ValueTask.FromResult(ControlResponse.Reply(value?.DeepClone()));
            }));
        }

        handlers.Add(new DelegateControlHandler("shutdown", (request, _) =>
        {
            received.Enqueue(request);
            shutdown.TrySetResult(request);
            return ValueTask.FromResult(ControlReplies.Shutdown);
        }));
        node = new PidboxNode(transport, name, handlers);
    }

    public string Name => node.NodeName;

    /// <summary>Every request this node acted on, in order.</summary>
    public IReadOnlyList<ControlRequest> Received => [.. received];

    /// <summary>Completes with the shutdown request, which gets no reply to wait for.</summary>
    public Task<ControlRequest> Shutdown => shutdown.Task;

    /// <summary>Celery's recorded reply value and request arguments for <paramref name="method"/>.</summary>
    public static (JsonObject Arguments, JsonNode? Reply) Recorded(string method) => FabricFixtures.Pair(FixtureOf[method], method);

    /// <summary>A node answering every command of <see cref="FixtureOf"/> as the fixtures' worker did, except for <paramref name="overrides"/>.</summary>
    public static async Task<ReplayNode> StartAsync(ITransport transport, string name, IReadOnlyDictionary<string, JsonNode?>? overrides = null)
    {
        var replies = FixtureOf.Keys.ToDictionary(method => method, method => Recorded(method).Reply, StringComparer.Ordinal);
        foreach (var (method, value) in overrides ?? new Dictionary<string, JsonNode?>())
        {
            replies[method] = value;
        }

        var replay = new ReplayNode(transport, name, replies);
        await replay.node.StartAsync();
        return replay;
    }

    public ValueTask DisposeAsync() => node.DisposeAsync();
}
