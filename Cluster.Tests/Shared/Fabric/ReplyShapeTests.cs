using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Revocation;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Fabric;

/// <summary>Each reply payload built from our models equals the captured one, and each request's arguments equal what Celery's client sent.</summary>
public class ReplyShapeTests
{
    [Fact]
    public void Ping()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-ping.json", "ping");

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("ping"));
        FabricFixtures.AssertJson(reply, ControlReplies.Pong.Value);
    }

    [Fact]
    public void Active_RequestInfoOfARunningTask()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-active-reserved-busy.json", "active");
        var first = reply!.AsArray()[0]!;

        var ours = RequestInfo.ListToJson(reply.AsArray().Select(r => ParseRequestInfo(r!)));

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("active"));
        Assert.Equal("""{"safe": null}""", FabricTestKit.Text(FabricJson.Serialize(arguments)));
        FabricFixtures.AssertJson(reply, ours);
        FabricFixtures.AssertJson(first, new RequestInfo(
            "6827e6e1-b80f-43f3-8e89-9d1bea9149fe", "tasks.sleeper", new JsonArray(3), new JsonObject(), "celery@vm", 1795253808.5011592, true,
            new DeliveryInfo("", "celery"), 10354).ToJson());
    }

    [Fact]
    public void Reserved_RequestInfoOfAPrefetchedTask()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-active-reserved-busy.json", "reserved");

        var ours = RequestInfo.ListToJson([new RequestInfo(
            "a1839c33-b0ae-4e1e-8011-2ffdd9687243", "tasks.add", new JsonArray(1, 2), new JsonObject(), "celery@vm", null, false, new DeliveryInfo("", "celery"), null)]);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("reserved"));
        FabricFixtures.AssertJson(reply, ours);
    }

    [Theory]
    [InlineData("[]", "an object")]
    [InlineData("""{"id": "x", "name": "n"}""", "'delivery_info'")]
    [InlineData("""{"name": "n", "delivery_info": {}}""", "'id'")]
    [InlineData("""{"id": "x", "name": "n", "delivery_info": {}, "worker_pid": "many"}""", "wrong type")]
    public void RequestInfo_Malformed_IsATypedError(string json, string named)
    {
        var error = Assert.Throws<FabricMessageException>(() => RequestInfo.Parse(JsonNode.Parse(json)));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scheduled_EtaPriorityAndRequest()
    {
        var (arguments, reply) = FabricFixtures.Pair("task-countdown-expires-and-inspect-scheduled.json", "scheduled");
        var request = new RequestInfo(
            "5781c1f1-aeb6-4ef4-8c56-29da2ccee097", "tasks.add", new JsonArray(2, 2), new JsonObject(), "celery@vm", null, false, new DeliveryInfo("", "celery"), null);

        var ours = ScheduledTaskInfo.ListToJson([new ScheduledTaskInfo(CeleryTime.Parse("2026-11-21T09:35:45.586688+00:00", "eta"), 6, request)]);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("scheduled"));
        FabricFixtures.AssertJson(reply, ours);
    }

    [Fact]
    public void QueryTask_StateAndRequestById()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-revoke-terminate-running-task.json", "query_task");
        var id = "c111fb3e-1617-42b3-bbc1-7b85922f869c";

        var ours = QueryTaskReply.ToJson([new QueriedTask("active", ParseRequestInfo(reply![id]![1]!))]);

        FabricFixtures.AssertJson(arguments, new QueryTaskArguments([id]).ToJson());
        FabricFixtures.AssertJson(reply, ours);
        Assert.Equal(QueryTaskArguments.Parse(arguments).Ids, [id]);
    }

    [Fact]
    public async Task Revoked_ListOfIds()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-revoked.json", "revoked");
        using var revoked = new RevokedTaskSet();
        revoked.Revoke(reply!.AsArray().Select(i => (string)i!));
        var handler = FabricControlHandlers.Revoked(revoked);

        var ours = await handler.HandleAsync(new ControlRequest { Method = "revoked", Arguments = arguments }, default);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("revoked"));
        FabricFixtures.AssertJson(reply, ours.Value);
        Assert.True(new ControlHandlerRegistry([handler]).TryGet("dump_revoked", out _));
    }

    [Fact]
    public void Registered_SortedNamesWithNonNullInfoItems()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-registered.json", "registered");
        var none = new Dictionary<string, string?> { ["exchange"] = null, ["routing_key"] = null, ["rate_limit"] = null };
        string[] names = ["tasks.tsum", "tasks.add", "tasks.echo", "tasks.custom_fail", "tasks.fail", "tasks.rejecter", "tasks.retry_once", "tasks.sleeper", "celery.chord_unlock"];
        var tasks = names.Select(n => new RegisteredTask(n, none))
            .Append(new RegisteredTask("tasks.limited", new Dictionary<string, string?> { ["exchange"] = null, ["rate_limit"] = "100/m" }));

        var ours = RegisteredTask.ListToJson(tasks, RegisteredArguments.Parse(arguments));

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("registered"));
        FabricFixtures.AssertJson(reply, ours);
    }

    [Fact]
    public void Stats_ClockIsAStringAndFieldsInCeleryOrder()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-stats.json", "stats");
        var captured = reply!.AsObject();
        var total = captured["total"]!.AsObject().Select(t => new KeyValuePair<string, long>(t.Key, (long)t.Value!)).ToList();

        var ours = new WorkerStats(total, 9443, 170, 95, captured["pool"]!.AsObject(), captured["broker"]!.AsObject(), 8, captured["rusage"]!.AsObject()).ToJson();

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("stats"));
        Assert.Equal(FabricTestKit.Text(FabricJson.Serialize(reply)), FabricTestKit.Text(FabricJson.Serialize(ours)));
        Assert.Equal("170", (string)ours["clock"]!);
    }

    [Fact]
    public void ActiveQueues_KombuQueueAsDict()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-add-consumer.json", "active_queues");

        var ours = QueueInfo.ListToJson([new QueueInfo("celery", new ExchangeInfo("celery"), "celery"), new QueueInfo("extra", new ExchangeInfo("extra"), "extra")]);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("active_queues"));
        Assert.Equal(FabricTestKit.Text(FabricJson.Serialize(reply)), FabricTestKit.Text(FabricJson.Serialize(ours)));
    }

    [Fact]
    public void Conf_SettingsWithTheBrokerPasswordMasked()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-conf.json", "conf");

        var ours = ConfReply.ToJson(
        [
            new("deprecated_settings", null),
            new("broker_url", "amqp://guest:guest@127.0.0.1:5672//"),
            new("result_backend", "rpc:///"),
            new("include", new JsonArray("tasks", "celery.app.builtins")),
        ]);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("conf"));
        FabricFixtures.AssertJson(reply, ours);
    }

    [Fact]
    public async Task Clock_AppClockValue()
    {
        var (arguments, reply) = FabricFixtures.Pair("inspect-clock.json", "clock");

        var ours = await FabricControlHandlers.Clock(new LamportClock(185)).HandleAsync(new ControlRequest { Method = "clock" }, default);

        FabricFixtures.AssertJson(arguments, ControlCommands.InspectArguments("clock"));
        FabricFixtures.AssertJson(reply, ours.Value);
    }

    [Fact]
    public async Task Revoke_PendingTask()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-revoke-pending-task.json", "revoke");
        using var revoked = new RevokedTaskSet();

        var ours = await FabricControlHandlers.Revoke(revoked).HandleAsync(new ControlRequest { Method = "revoke", Arguments = arguments }, default);

        FabricFixtures.AssertJson(arguments, new RevokeArguments(["0824f6c1-297b-4526-8b8c-3a6b514ae977"]).ToJson());
        FabricFixtures.AssertJson(reply, ours.Value);
        Assert.True(revoked.Contains("0824f6c1-297b-4526-8b8c-3a6b514ae977"));
    }

    [Fact]
    public async Task Revoke_TerminateRunningTask()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-revoke-terminate-running-task.json", "revoke");
        using var revoked = new RevokedTaskSet();
        string? signalled = null;
        var handler = FabricControlHandlers.Revoke(revoked, (ids, signal, _) =>
        {
            signalled = signal;
            return ValueTask.FromResult<IReadOnlyCollection<string>>(ids);
        });

        var ours = await handler.HandleAsync(new ControlRequest { Method = "revoke", Arguments = arguments }, default);

        FabricFixtures.AssertJson(arguments, new RevokeArguments(["c111fb3e-1617-42b3-bbc1-7b85922f869c"], Terminate: true).ToJson());
        FabricFixtures.AssertJson(reply, ours.Value);
        Assert.Equal("SIGTERM", signalled);
    }

    [Fact]
    public async Task Revoke_TerminateWithNothingRunning_SaysTasksUnknown()
    {
        using var revoked = new RevokedTaskSet();

        var ours = await FabricControlHandlers.Revoke(revoked).HandleAsync(
            new ControlRequest { Method = "revoke", Arguments = new RevokeArguments(["a", "b"], Terminate: true).ToJson() }, default);

        FabricFixtures.AssertJson(new JsonObject { ["ok"] = "terminate: tasks unknown" }, ours.Value);
        Assert.True(revoked.Contains("b"));
    }

    [Fact]
    public void RevokeArguments_SeveralIdsTravelAsAList()
    {
        var json = new RevokeArguments(["a", "b"]).ToJson();

        Assert.Equal("""{"task_id": ["a", "b"], "terminate": false, "signal": "SIGTERM"}""", FabricTestKit.Text(FabricJson.Serialize(json)));
        Assert.Equal(["a", "b"], RevokeArguments.Parse(json).TaskIds);
    }

    [Fact]
    public void RateLimit_SetUnknownTaskAndBadUnit()
    {
        var (set, setReply) = FabricFixtures.Pair("control-rate-limit.json", "rate_limit");
        var (unknown, unknownReply) = FabricFixtures.Pair("control-rate-limit-unknown-task.json", "rate_limit");
        var (invalid, invalidReply) = FabricFixtures.Pair("control-rate-limit-invalid.json", "rate_limit");

        FabricFixtures.AssertJson(set, new RateLimitArguments("tasks.add", "10/s").ToJson());
        FabricFixtures.AssertJson(setReply, ControlReplies.RateLimitSet.Value);
        FabricFixtures.AssertJson(unknown, new RateLimitArguments("tasks.nope", "5/m").ToJson());
        FabricFixtures.AssertJson(unknownReply, ControlReplies.UnknownTask.Value);
        FabricFixtures.AssertJson(invalid, new RateLimitArguments("tasks.add", "10/x").ToJson());
        FabricFixtures.AssertJson(invalidReply, ControlResponse.Error(new ControlCommandException("KeyError", "x").PythonRepr).Value);
        Assert.Equal("new rate limit set successfully", (string)ControlReplies.RateLimitSet.Value!["ok"]!);
        Assert.Equal("rate limit disabled successfully", (string)ControlReplies.RateLimitDisabled.Value!["ok"]!);
    }

    [Fact]
    public void TimeLimit()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-time-limit.json", "time_limit");

        Assert.Equal(FabricTestKit.Text(FabricJson.Serialize(arguments)), FabricTestKit.Text(FabricJson.Serialize(new TimeLimitArguments("tasks.add", Hard: 20, Soft: 10).ToJson())));
        FabricFixtures.AssertJson(reply, ControlReplies.TimeLimitsSet.Value);
        Assert.Equal(new TimeLimitArguments("tasks.add", 20, 10), TimeLimitArguments.Parse(arguments));
    }

    [Fact]
    public void AddAndCancelConsumer()
    {
        var (add, addReply) = FabricFixtures.Pair("control-add-consumer.json", "add_consumer");
        var (cancel, cancelReply) = FabricFixtures.Pair("control-cancel-consumer.json", "cancel_consumer");

        FabricFixtures.AssertJson(add, new AddConsumerArguments("extra").ToJson());
        FabricFixtures.AssertJson(addReply, ControlReplies.ConsumerAdded("extra").Value);
        FabricFixtures.AssertJson(cancel, new CancelConsumerArguments("extra").ToJson());
        FabricFixtures.AssertJson(cancelReply, ControlReplies.ConsumerCancelled("extra").Value);
        Assert.Equal(new AddConsumerArguments("extra"), AddConsumerArguments.Parse(add));
    }

    [Fact]
    public void PoolGrowShrinkAndAutoscale()
    {
        var (grow, growReply) = FabricFixtures.Pair("control-pool-grow.json", "pool_grow");
        var (shrink, shrinkReply) = FabricFixtures.Pair("control-pool-shrink.json", "pool_shrink");
        var (autoscale, autoscaleReply) = FabricFixtures.Pair("control-autoscale-not-enabled.json", "autoscale");

        FabricFixtures.AssertJson(grow, new PoolResizeArguments(1).ToJson());
        FabricFixtures.AssertJson(growReply, ControlReplies.PoolWillGrow.Value);
        FabricFixtures.AssertJson(shrink, new PoolResizeArguments(1).ToJson());
        FabricFixtures.AssertJson(shrinkReply, ControlReplies.PoolWillShrink.Value);
        FabricFixtures.AssertJson(autoscale, new AutoscaleArguments(4, 1).ToJson());
        FabricFixtures.AssertJson(autoscaleReply, ControlResponse.Error(ControlReplies.AutoscaleNotEnabled.PythonRepr).Value);
    }

    [Fact]
    public void EnableAndDisableEvents()
    {
        var (enable, enableReply) = FabricFixtures.Pair("control-enable-events.json", "enable_events");
        var (disable, disableReply) = FabricFixtures.Pair("control-disable-events.json", "disable_events");

        Assert.Empty(enable);
        Assert.Empty(disable);
        FabricFixtures.AssertJson(enableReply, ControlReplies.TaskEventsEnabled(wasEnabled: true).Value);
        FabricFixtures.AssertJson(disableReply, ControlReplies.TaskEventsDisabled(wasDisabled: true).Value);
    }

    [Fact]
    public void Heartbeat_RepliesNull()
    {
        var (arguments, reply) = FabricFixtures.Pair("control-heartbeat.json", "heartbeat");

        Assert.Empty(arguments);
        Assert.Null(reply);
        Assert.True(ControlReplies.Heartbeat.SendsReply);
        Assert.Null(ControlReplies.Heartbeat.Value);
    }

    [Fact]
    public void Shutdown_NeverReplies()
    {
        var exchanges = FabricFixtures.Exchanges("control-shutdown-destination.json");

        Assert.Single(exchanges);
        Assert.Null(exchanges[0].Reply);
        Assert.False(ControlReplies.Shutdown.SendsReply);
    }

    [Fact]
    public void UnknownCommand_KeyErrorRepr()
    {
        var (_, reply) = FabricFixtures.Pair("control-unknown-command.json", "no_such_cmd");

        FabricFixtures.AssertJson(reply, ControlResponse.Error(new ControlCommandException("KeyError", "no_such_cmd").PythonRepr).Value);
    }

    [Fact]
    public void Hello_ArgumentsAndReply()
    {
        var (arguments, reply) = FabricFixtures.Pair("worker-mingle-hello-with-reply.json", "hello");
        var captured = HelloReply.Parse(reply);

        var ours = new HelloReply(captured.Revoked, 282).ToJson();

        FabricFixtures.AssertJson(arguments, new HelloArguments("celery@vm2", []).ToJson());
        Assert.Equal(FabricTestKit.Text(FabricJson.Serialize(reply)), FabricTestKit.Text(FabricJson.Serialize(ours)));
        Assert.Equal(3, MingleRevoked.Parse(captured.Revoked).Count);
    }

    private static RequestInfo ParseRequestInfo(JsonNode json) => RequestInfo.Parse(json);
}
