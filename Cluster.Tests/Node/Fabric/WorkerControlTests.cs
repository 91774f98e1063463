using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Pidbox;
using ClusterQueue.Tests.Fabric;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Every command a worker answers, asked with <see cref="ControlClient"/> of a real node, against Celery 5.2.6's replies.</summary>
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
}

public sealed class WorkerControlMemoryTests() : WorkerControlTests(ClusterBroker.Memory);

public sealed class WorkerControlSqliteTests() : WorkerControlTests(ClusterBroker.Sqlite);

[Trait("Server", AmqpTestBroker.Trait)]
public sealed class WorkerControlAmqpTests() : WorkerControlTests(ClusterBroker.Amqp);
