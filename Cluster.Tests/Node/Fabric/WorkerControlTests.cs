using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Tests.Fabric;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Every command a worker answers, asked with <see cref="PidboxClient"/> of a real node, against Celery 5.2.6's replies.</summary>
public abstract class WorkerControlTests(ClusterBroker broker) : IAsyncLifetime
{
    protected ClusterKit Kit { get; } = ClusterKit.Create(broker);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Kit.DisposeAsync();

    [Fact]
    public async Task Ping_is_answered_pong_by_the_node()
    {
        await Kit.StartAsync("celery@vm");

        var (_, expected) = FabricFixtures.Pair("control-ping.json", "ping");
        Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "ping")));
    }

    [Fact]
    public async Task Registered_lists_the_tasks_sorted_with_rate_limits_and_hides_celery_builtins()
    {
        var app = Kit.App(tasks =>
        {
            tasks.Register("test.limited", () => 1, new TaskOptions { RateLimit = RateLimit.Parse("100/m") });
            tasks.Register("celery.backend_cleanup", () => 0);
        });
        await Kit.StartAsync(Kit.Settings("celery@vm"), app);

        var names = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "registered")).Select(n => (string)n!).ToList();

        Assert.Contains("test.limited [rate_limit=100/m]", names);
        Assert.Contains("tasks.add", names);
        Assert.DoesNotContain(names, n => n.StartsWith("celery.", StringComparison.Ordinal));
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        // dump_tasks is Celery's older name for the same command.
        Assert.True(JsonNode.DeepEquals(new JsonArray([.. names.Select(n => (JsonNode?)n)]), await Kit.InspectAsync("celery@vm", "dump_tasks")));
    }

    [Fact]
    public async Task Stats_has_Celery_keys_and_counts_tasks_by_name()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("celery@vm", concurrency: 3), app);
        var sent = await app.ApplyAsync("tasks.add", [1, 2]);
        Assert.Equal(3L, (long)(await sent.GetAsync(ClusterKit.Patience))!);

        var stats = Assert.IsType<JsonObject>(await Kit.InspectAsync("celery@vm", "stats"));

        var (_, fixture) = FabricFixtures.Pair("inspect-stats.json", "stats");
        Assert.Equal(fixture!.AsObject().Select(p => p.Key).Order(), stats.Select(p => p.Key).Order());
        Assert.Equal(1, (long)stats["total"]!["tasks.add"]!);
        Assert.Equal(Environment.ProcessId, (int)stats["pid"]!);
        // Celery sends the clock as a string.
        Assert.True(long.TryParse((string)stats["clock"]!, out var clock) && clock > 0);
        Assert.Equal(3, (int)stats["pool"]!["max-concurrency"]!);
        Assert.Equal(12, (int)stats["prefetch_count"]!);
        Assert.True(stats["uptime"]!.GetValueKind() == System.Text.Json.JsonValueKind.Number);
        foreach (var key in fixture["rusage"]!.AsObject().Select(p => p.Key))
        {
            Assert.True(stats["rusage"]!.AsObject().ContainsKey(key), $"rusage lacks {key}");
        }

        Assert.True(node.Stats.Succeeded >= 1);
    }

    [Fact]
    public async Task Active_reserved_and_query_task_list_requests_in_Celery_request_info_shape()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("celery@vm", concurrency: 1), app);
        var sleeperId = Guid.NewGuid().ToString();
        var started = ClusterKit.WhenAsync(node, sleeperId, TaskEventKind.Started);
        await app.ApplyAsync("tasks.sleep", [30], options: new SendOptions { TaskId = sleeperId });
        await started;
        var waiting = await app.ApplyAsync("tasks.add", [1, 2]);
        await ClusterKit.EventuallyAsync(() => node.Stats.Received >= 2, "the add task to be reserved");

        var active = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "active"));
        var reserved = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "reserved"));
        var queried = Assert.IsType<JsonObject>(await Kit.InspectAsync("celery@vm", "query_task", new JsonObject { ["ids"] = new JsonArray(sleeperId, waiting.Id) }));

        var (_, fixtureActive) = FabricFixtures.Pair("control-revoke-terminate-running-task.json", "active");
        var expectedKeys = fixtureActive!.AsArray()[0]!.AsObject().Select(p => p.Key).ToList();
        var running = Assert.Single(active)!.AsObject();
        Assert.Equal(expectedKeys, running.Select(p => p.Key).ToList());
        Assert.Equal(sleeperId, (string)running["id"]!);
        Assert.Equal("tasks.sleep", (string)running["type"]!);
        Assert.True(JsonNode.DeepEquals(new JsonArray(30), running["args"]));
        Assert.True((bool)running["acknowledged"]!);
        Assert.Equal(Environment.ProcessId, (int)running["worker_pid"]!);
        Assert.Equal("celery", (string)running["delivery_info"]!["routing_key"]!);
        Assert.NotNull(running["time_start"]);

        var held = Assert.Single(reserved)!.AsObject();
        Assert.Equal(waiting.Id, (string)held["id"]!);
        Assert.False((bool)held["acknowledged"]!);
        Assert.Null(held["time_start"]);
        Assert.Null(held["worker_pid"]);

        Assert.Equal("active", (string)queried[sleeperId]![0]!);
        Assert.Equal("reserved", (string)queried[waiting.Id]![0]!);

        // With safe, args are the reprs a Python client can print without the task's types.
        var safe = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "active", new JsonObject { ["safe"] = true }));
        Assert.Equal(System.Text.Json.JsonValueKind.String, safe[0]!["args"]!.GetValueKind());
        Assert.True(JsonNode.DeepEquals(active, await Kit.InspectAsync("celery@vm", "dump_active")));
    }

    [Fact]
    public async Task Scheduled_lists_a_countdown_task_with_its_eta_priority_and_request()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("celery@vm") with { EtaHorizon = TimeSpan.FromMinutes(5) }, app);
        var node = Kit.StartedNodes[^1];
        // Published at once with its ETA, as a Python client does; the node holds it.
        var later = new TaskMessage { Task = "tasks.add", Id = Uuid.NewId(), Args = [2, 2], Eta = DateTimeOffset.UtcNow.AddMinutes(2), Priority = 3 };
        await app.Transport.PublishAsync("", "celery", app.Codec.Encode(later));
        await ClusterKit.EventuallyAsync(() => node.Stats.Received == 1, "the ETA task to be held");

        var scheduled = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "scheduled"));

        var entry = Assert.Single(scheduled)!.AsObject();
        Assert.Equal(["eta", "priority", "request"], entry.Select(p => p.Key).ToList());
        Assert.True(DateTimeOffset.TryParse((string)entry["eta"]!, out var eta) && eta > DateTimeOffset.UtcNow);
        Assert.Equal(3, (int)entry["priority"]!);
        Assert.Equal(later.Id, (string)entry["request"]!["id"]!);
        Assert.True(JsonNode.DeepEquals(scheduled, await Kit.InspectAsync("celery@vm", "dump_schedule")));
    }

    [Fact]
    public async Task Clock_conf_and_revoked_answer_in_Celery_shapes()
    {
        var settings = Kit.Settings("celery@vm");
        await Kit.StartAsync(settings with
        {
            Fabric = settings.Fabric with
            {
                Conf = new Dictionary<string, JsonNode?> { ["cluster-queue.broker.url"] = "amqp://guest:secret@127.0.0.1:5672//" },
            },
        });

        var clock = Assert.IsType<JsonObject>(await Kit.InspectAsync("celery@vm", "clock"));
        Assert.Equal(["clock"], clock.Select(p => p.Key).ToList());
        Assert.True((long)clock["clock"]! > 0);

        var conf = Assert.IsType<JsonObject>(await Kit.InspectAsync("celery@vm", "conf"));
        Assert.Equal("amqp://guest:********@127.0.0.1:5672//", (string)conf["cluster-queue.broker.url"]!);

        var (revokeArguments, revokeReply) = FabricFixtures.Pair("control-revoke-pending-task.json", "revoke");
        var id = (string)revokeArguments["task_id"]!;
        Assert.True(FabricFixtures.JsonEqual(revokeReply, await Kit.InspectAsync("celery@vm", "revoke", revokeArguments)));
        Assert.True(JsonNode.DeepEquals(new JsonArray(id), await Kit.InspectAsync("celery@vm", "revoked")));
        Assert.True(JsonNode.DeepEquals(new JsonArray(id), await Kit.InspectAsync("celery@vm", "dump_revoked")));
    }

    [Fact]
    public async Task Rate_limit_answers_as_Celery_and_changes_the_registered_limit()
    {
        await Kit.StartAsync("celery@vm");

        foreach (var file in new[] { "control-rate-limit.json", "control-rate-limit-invalid.json", "control-rate-limit-unknown-task.json" })
        {
            var (arguments, expected) = FabricFixtures.Pair(file, "rate_limit");
            Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "rate_limit", arguments)), file);
        }

        var names = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "registered")).Select(n => (string)n!).ToList();
        Assert.Contains("tasks.add [rate_limit=10/s]", names);

        var disabled = await Kit.InspectAsync("celery@vm", "rate_limit", new JsonObject { ["task_name"] = "tasks.add", ["rate_limit"] = null });
        Assert.Equal("rate limit disabled successfully", (string)disabled!["ok"]!);
        Assert.Contains("tasks.add", Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "registered")).Select(n => (string)n!));
    }

    [Fact]
    public async Task Time_limit_answers_as_Celery_and_applies_to_the_next_run()
    {
        var app = Kit.App();
        var node = await Kit.StartAsync(Kit.Settings("celery@vm"), app);
        var (arguments, expected) = FabricFixtures.Pair("control-time-limit.json", "time_limit");
        Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "time_limit", arguments)));

        var unknown = await Kit.InspectAsync("celery@vm", "time_limit", new JsonObject { ["task_name"] = "no.such", ["soft"] = 1 });
        Assert.Equal("unknown task", (string)unknown!["error"]!);

        await Kit.InspectAsync("celery@vm", "time_limit", new JsonObject { ["task_name"] = "tasks.sleep", ["soft"] = 0.2, ["hard"] = null });
        var sleeper = await app.ApplyAsync("tasks.sleep", [30]);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => sleeper.GetAsync(ClusterKit.Patience));
        Assert.Contains("SoftTimeLimitExceeded", failure.ToString());
        Assert.Equal(1, node.Stats.Failed);
    }

    [Fact]
    public async Task Add_consumer_and_cancel_consumer_change_the_consumed_queues_at_run_time()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("celery@vm"), app);

        var (_, fixtureQueues) = FabricFixtures.Pair("inspect-active-queues.json", "active_queues");
        Assert.True(FabricFixtures.JsonEqual(fixtureQueues, await Kit.InspectAsync("celery@vm", "active_queues")));

        var (addArguments, added) = FabricFixtures.Pair("control-add-consumer.json", "add_consumer");
        Assert.True(FabricFixtures.JsonEqual(added, await Kit.InspectAsync("celery@vm", "add_consumer", addArguments)));
        var again = await Kit.InspectAsync("celery@vm", "add_consumer", addArguments);
        Assert.Equal("already consuming from extra", (string)again!["ok"]!);
        var queues = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "active_queues")).Select(q => (string)q!["name"]!).ToList();
        Assert.Equal(["celery", "extra"], queues);

        var onExtra = await app.SendTaskAsync("tasks.add", [20, 22], options: new SendOptions { Queue = "extra" });
        Assert.Equal(42L, (long)(await onExtra.GetAsync(ClusterKit.Patience))!);

        var (cancelArguments, cancelled) = FabricFixtures.Pair("control-cancel-consumer.json", "cancel_consumer");
        Assert.True(FabricFixtures.JsonEqual(cancelled, await Kit.InspectAsync("celery@vm", "cancel_consumer", cancelArguments)));
        queues = Assert.IsType<JsonArray>(await Kit.InspectAsync("celery@vm", "active_queues")).Select(q => (string)q!["name"]!).ToList();
        Assert.Equal(["celery"], queues);
    }

    [Fact]
    public async Task Pool_grow_and_shrink_resize_the_pool_that_stats_reports()
    {
        await Kit.StartAsync("celery@vm", concurrency: 2);

        var (growArguments, grew) = FabricFixtures.Pair("control-pool-grow.json", "pool_grow");
        Assert.True(FabricFixtures.JsonEqual(grew, await Kit.InspectAsync("celery@vm", "pool_grow", growArguments)));
        Assert.Equal(3, (int)(await Kit.InspectAsync("celery@vm", "stats"))!["pool"]!["max-concurrency"]!);

        var (shrinkArguments, shrank) = FabricFixtures.Pair("control-pool-shrink.json", "pool_shrink");
        Assert.True(FabricFixtures.JsonEqual(shrank, await Kit.InspectAsync("celery@vm", "pool_shrink", shrinkArguments)));
        await Kit.InspectAsync("celery@vm", "pool_shrink", new JsonObject { ["n"] = 1 });
        Assert.Equal(1, (int)(await Kit.InspectAsync("celery@vm", "stats"))!["pool"]!["max-concurrency"]!);
    }

    [Fact]
    public async Task Autoscale_without_autoscale_settings_is_Celerys_ValueError()
    {
        await Kit.StartAsync("celery@vm");

        var (arguments, expected) = FabricFixtures.Pair("control-autoscale-not-enabled.json", "autoscale");
        Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "autoscale", arguments)));
    }

    [Fact]
    public async Task Autoscale_moves_the_running_autoscalers_range_and_stats_show_it()
    {
        await Kit.StartAsync(Kit.Settings("celery@vm") with { Autoscale = new AutoscaleSettings { Max = 2, Min = 1 } });
        Assert.True(JsonNode.DeepEquals(Autoscaler(max: 2, min: 1, current: 1), (await Kit.InspectAsync("celery@vm", "stats"))!["autoscaler"]));

        // As Celery's update(): a min above the pool grows it at once.
        var raised = await Kit.InspectAsync("celery@vm", "autoscale", new JsonObject { ["max"] = 4, ["min"] = 3 });
        Assert.Equal("autoscale now max=4 min=3", (string)raised!["ok"]!);
        var stats = await Kit.InspectAsync("celery@vm", "stats");
        Assert.True(JsonNode.DeepEquals(Autoscaler(max: 4, min: 3, current: 3), stats!["autoscaler"]), stats["autoscaler"]!.ToJsonString());
        Assert.Equal(3, (int)stats["pool"]!["max-concurrency"]!);

        // And a max below the pool shrinks it at once.
        var lowered = await Kit.InspectAsync("celery@vm", "autoscale", new JsonObject { ["max"] = 2, ["min"] = 1 });
        Assert.Equal("autoscale now max=2 min=1", (string)lowered!["ok"]!);
        stats = await Kit.InspectAsync("celery@vm", "stats");
        Assert.True(JsonNode.DeepEquals(Autoscaler(max: 2, min: 1, current: 2), stats!["autoscaler"]), stats["autoscaler"]!.ToJsonString());

        // A bound left out keeps its value.
        var maxOnly = await Kit.InspectAsync("celery@vm", "autoscale", new JsonObject { ["max"] = 5 });
        Assert.Equal("autoscale now max=5 min=1", (string)maxOnly!["ok"]!);
    }

    [Fact]
    public async Task Pool_grow_and_shrink_under_autoscale_are_refused_as_Celery_5_2_refuses_them()
    {
        await Kit.StartAsync(Kit.Settings("celery@vm") with { Autoscale = new AutoscaleSettings { Max = 4, Min = 2 } });

        var grow = await Kit.InspectAsync("celery@vm", "pool_grow", new JsonObject { ["n"] = 1 });
        Assert.Equal("pool_grow is not supported with autoscale. Adjust autoscale range instead.", (string)grow!["error"]!);
        var shrink = await Kit.InspectAsync("celery@vm", "pool_shrink", new JsonObject { ["n"] = 1 });
        Assert.Equal("pool_shrink is not supported with autoscale. Adjust autoscale range instead.", (string)shrink!["error"]!);
        Assert.Equal(2, (int)(await Kit.InspectAsync("celery@vm", "stats"))!["pool"]!["max-concurrency"]!);
    }

    [Fact]
    public async Task Stats_without_autoscale_have_no_autoscaler_key()
    {
        await Kit.StartAsync("celery@vm");

        Assert.False(Assert.IsType<JsonObject>(await Kit.InspectAsync("celery@vm", "stats")).ContainsKey("autoscaler"));
    }

    private static JsonObject Autoscaler(int max, int min, int current) => new() { ["max"] = max, ["min"] = min, ["current"] = current, ["qty"] = 0 };

    [Fact]
    public async Task Enable_and_disable_events_answer_as_Celery_and_switch_task_events()
    {
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("celery@vm"), app);
        await using var receiver = await Kit.ReceiveEventsAsync("task.#");

        var enabled = await Kit.InspectAsync("celery@vm", "enable_events");
        Assert.Equal("task events enabled", (string)enabled!["ok"]!);
        // The fixture's worker ran with -E, so it answered that events were on already.
        var (enableArguments, enabledAgain) = FabricFixtures.Pair("control-enable-events.json", "enable_events");
        Assert.True(FabricFixtures.JsonEqual(enabledAgain, await Kit.InspectAsync("celery@vm", "enable_events", enableArguments)));
        var sent = await app.ApplyAsync("tasks.add", [1, 1]);
        var succeeded = await ClusterKit.NextAsync(receiver, e => e is ClusterQueue.Fabric.Events.TaskSucceededEvent s && s.Uuid == sent.Id, "task-succeeded");
        Assert.Equal("2", ((ClusterQueue.Fabric.Events.TaskSucceededEvent)succeeded).Result);

        var disabled = await Kit.InspectAsync("celery@vm", "disable_events");
        Assert.Equal("task events disabled", (string)disabled!["ok"]!);
        var (disableArguments, disabledAgain) = FabricFixtures.Pair("control-disable-events.json", "disable_events");
        Assert.True(FabricFixtures.JsonEqual(disabledAgain, await Kit.InspectAsync("celery@vm", "disable_events", disableArguments)));
    }

    [Fact]
    public async Task Heartbeat_replies_null_and_sends_a_worker_heartbeat_with_freq_5()
    {
        await Kit.StartAsync("celery@vm");
        await using var receiver = await Kit.ReceiveEventsAsync("worker.heartbeat");

        var (_, expected) = FabricFixtures.Pair("control-heartbeat.json", "heartbeat");
        Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "heartbeat")));

        var beat = (ClusterQueue.Fabric.Events.WorkerEvent)await ClusterKit.NextAsync(
            receiver, e => e is ClusterQueue.Fabric.Events.WorkerEvent { Freq: 5 } w && w.Hostname == "celery@vm", "the heartbeat with freq 5");
        Assert.Null(beat.Active);
    }

    [Fact]
    public async Task Unknown_commands_and_bad_arguments_get_error_replies_and_the_node_keeps_running()
    {
        await Kit.StartAsync("celery@vm");

        var (arguments, expected) = FabricFixtures.Pair("control-unknown-command.json", "no_such_cmd");
        Assert.True(FabricFixtures.JsonEqual(expected, await Kit.InspectAsync("celery@vm", "no_such_cmd", arguments)));

        var missing = await Kit.InspectAsync("celery@vm", "rate_limit", new JsonObject { ["rate_limit"] = "1/s" });
        Assert.Contains("task_name", (string)missing!["error"]!);
        var badCount = await Kit.InspectAsync("celery@vm", "pool_grow", new JsonObject { ["n"] = "many" });
        Assert.StartsWith("ValueError(", (string)badCount!["error"]!);
        Assert.Contains("must be an integer", (string)badCount["error"]!);

        Assert.Equal("pong", (string)(await Kit.InspectAsync("celery@vm", "ping"))!["ok"]!);
    }

    [Fact]
    public async Task Shutdown_stops_the_node_warmly_without_a_reply_and_announces_worker_offline()
    {
        var node = await Kit.StartAsync("celery@vm");
        await using var receiver = await Kit.ReceiveEventsAsync("worker.offline");

        var replies = await Kit.Client.BroadcastAsync("shutdown", [], ControlTarget.Nodes("celery@vm"), timeout: TimeSpan.FromSeconds(1));

        Assert.Empty(replies);
        await node.Completion.WaitAsync(ClusterKit.Patience);
        await ClusterKit.NextAsync(receiver, e => e.Hostname == "celery@vm", "worker-offline");
    }
}

public sealed class WorkerControlMemoryTests() : WorkerControlTests(ClusterBroker.Memory);

public sealed class WorkerControlSqliteTests() : WorkerControlTests(ClusterBroker.Sqlite);

[Trait("Server", AmqpTestBroker.Trait)]
public sealed class WorkerControlAmqpTests() : WorkerControlTests(ClusterBroker.Amqp);
