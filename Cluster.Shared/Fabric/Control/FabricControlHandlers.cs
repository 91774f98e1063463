using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Revocation;

namespace ClusterQueue.Fabric.Control;

/// <summary>The commands the fabric answers by itself; the worker adds the ones that touch its pool, consumers and requests.</summary>
public static class FabricControlHandlers
{
    public static IControlHandler Ping() =>
        new DelegateControlHandler("ping", (_, _) => ValueTask.FromResult(ControlReplies.Pong));

    /// <summary><c>clock</c>: the app clock, not the mailbox clock.</summary>
    public static IControlHandler Clock(LamportClock appClock) =>
        new DelegateControlHandler("clock", (_, _) => ValueTask.FromResult(ControlResponse.Reply(ClockReply.ToJson(appClock.Value))));

    /// <summary><c>revoked</c> (alias <c>dump_revoked</c>): the live revoked ids.</summary>
    public static IControlHandler Revoked(RevokedTaskSet revoked) =>
        new DelegateControlHandler(
            "revoked",
            (_, _) => ValueTask.FromResult(ControlResponse.Reply(new System.Text.Json.Nodes.JsonArray([.. revoked.Snapshot().Select(id => (System.Text.Json.Nodes.JsonNode?)id)]))));

    /// <summary>
    /// <c>revoke</c> (and <c>terminate</c> with terminate forced on): records the ids, then, when asked to terminate,
    /// lets <paramref name="terminate"/> signal the running requests among them and return the ids it signalled.
    /// </summary>
    public static IControlHandler Revoke(RevokedTaskSet revoked, Func<IReadOnlyList<string>, string, CancellationToken, ValueTask<IReadOnlyCollection<string>>>? terminate = null) =>
        new DelegateControlHandler("revoke", async (request, cancellationToken) =>
        {
            var arguments = RevokeArguments.Parse(request.Arguments);
            var ids = revoked.Revoke(arguments.TaskIds);
            if (!arguments.Terminate) return ControlReplies.Revoked(ids);
            var terminated = terminate is null ? [] : await terminate(ids, arguments.Signal, cancellationToken).ConfigureAwait(false);
            return ControlReplies.Terminated(terminated);
        });

    /// <summary><c>heartbeat</c>: sends a short <c>worker-heartbeat</c> (freq 5, software info only) at once and replies null, as Celery does.</summary>
    public static IControlHandler Heartbeat(EventDispatcher dispatcher) =>
        new DelegateControlHandler("heartbeat", async (_, cancellationToken) =>
        {
            await dispatcher.SendAsync(new WorkerEvent(WorkerEvent.Heartbeat) { Freq = 5 }, cancellationToken).ConfigureAwait(false);
            return ControlReplies.Heartbeat;
        });

    /// <summary><c>enable_events</c>: turns task events on, saying whether they already were.</summary>
    public static IControlHandler EnableEvents(EventDispatcher dispatcher) =>
        new DelegateControlHandler("enable_events", (_, _) =>
        {
            var was = dispatcher.TaskEventsEnabled;
            dispatcher.TaskEventsEnabled = true;
            return ValueTask.FromResult(ControlReplies.TaskEventsEnabled(was));
        });

    /// <summary><c>disable_events</c>: turns task events off, saying whether they already were.</summary>
    public static IControlHandler DisableEvents(EventDispatcher dispatcher) =>
        new DelegateControlHandler("disable_events", (_, _) =>
        {
            var was = !dispatcher.TaskEventsEnabled;
            dispatcher.TaskEventsEnabled = false;
            return ValueTask.FromResult(ControlReplies.TaskEventsDisabled(was));
        });

    /// <summary><c>members</c>: the cluster as Akka.Cluster shows it to this node, each member with its status and roles.</summary>
    public static IControlHandler Members(Func<IReadOnlyList<ClusterPlane.ClusterMember>> members) =>
        new DelegateControlHandler("members", (_, _) => ValueTask.FromResult(ControlResponse.Reply(ClusterPlane.ClusterMembers.ToJson(members()))));

    /// <summary>The fabric's own commands for a node: ping, clock, revoked, revoke and the mingle hello.</summary>
    public static ControlHandlerRegistry CreateRegistry(string nodeName, RevokedTaskSet revoked, LamportClock appClock) =>
        new([Ping(), Clock(appClock), Revoked(revoked), Revoke(revoked), new HelloHandler(nodeName, revoked, appClock)]);
}
