using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Worker;
using ClusterQueue.Tests.Node.Fabric;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Interop.Control;

/// <summary>One of our worker nodes, events on, on a RabbitMQ vhost of its own, for Celery's command-line tools to talk to.</summary>
public sealed class EventfulWorkerFixture : IAsyncLifetime
{
    public const string NodeName = "cq@interop";

    public ClusterKit Kit { get; } = ClusterKit.Create(ClusterBroker.Amqp);

    public WorkerNode? Node { get; private set; }

    public string BrokerUrl => Kit.Broker.Url;

    public async Task InitializeAsync() => Node = await Kit.StartAsync(Kit.Settings(NodeName) with { SendTaskEvents = true });

    public async Task DisposeAsync() => await Kit.DisposeAsync();
}

/// <summary>Debian's Celery 5.2.6 tools (<c>inspect</c>, <c>control</c>, <c>events --dump</c>) aimed at our worker node on RabbitMQ.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class CeleryToolsTests(EventfulWorkerFixture worker) : IClassFixture<EventfulWorkerFixture>
{
    private const string Node = EventfulWorkerFixture.NodeName;

    // The call ends when the named node replied; the timeout only bounds a failure on a busy machine.
    private const string Patient = "30";

    [Fact]
    public async Task CeleryInspectPing_ListsOurNode()
    {
        var run = await CeleryCommand.RunAsync(worker.BrokerUrl, "inspect", "ping", "-d", Node, "-t", Patient);

        Assert.True(run.ExitCode == 0, $"celery inspect ping exited {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Equal($"->  {Node}: OK\n        pong\n\n1 node online.\n", run.Output);
    }

    [Fact]
    public async Task CeleryStatus_ListsOurNode()
    {
        var run = await CeleryCommand.RunAsync(worker.BrokerUrl, "status", "-d", Node, "-t", Patient);

        Assert.True(run.ExitCode == 0, $"celery status exited {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Equal($"->  {Node}: OK\n\n1 node online.\n", run.Output);
    }

    [Fact]
    public async Task CeleryInspectRegistered_ListsTheDemoTasks()
    {
        var run = await CeleryCommand.RunAsync(worker.BrokerUrl, "inspect", "registered", "-d", Node, "-t", Patient, "--json");

        Assert.True(run.ExitCode == 0, $"celery inspect registered exited {run.ExitCode}: {run.Output}{run.Error}");
        var names = JsonNode.Parse(run.Output)![Node]!.AsArray().Select(n => ((string)n!).Split(' ')[0]).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "tasks.add", "tasks.mul", "tasks.xsum", "tasks.noop", "tasks.echo", "tasks.sleep", "tasks.fail", "tasks.flaky" });
    }

    [Fact]
    public async Task CeleryControlRateLimit_IsAppliedByOurNode()
    {
        var run = await CeleryCommand.RunAsync(worker.BrokerUrl, "control", "rate_limit", "tasks.xsum", "10/s", "-d", Node, "-t", Patient);

        Assert.True(run.ExitCode == 0, $"celery control rate_limit exited {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Equal($"->  {Node}: OK\n        new rate limit set successfully\n", run.Output);
        var registered = await worker.Kit.InspectAsync(Node, "registered", new RegisteredArguments(["rate_limit"]).ToJson());
        Assert.Contains("tasks.xsum [rate_limit=10/s]", registered!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public async Task CeleryControlRateLimit_BadRate_PrintsOurNodesError()
    {
        var run = await CeleryCommand.RunAsync(worker.BrokerUrl, "control", "rate_limit", "tasks.add", "10/x", "-d", Node, "-t", Patient);

        // Celery exits 0 whenever a node replied, error or not.
        Assert.True(run.ExitCode == 0, $"celery control rate_limit exited {run.ExitCode}: {run.Output}{run.Error}");
        Assert.Equal($"->  {Node}: ERROR\n        KeyError('x')\n", run.Output);
    }

    [Fact]
    public async Task CeleryControlRevoke_ThenCeleryInspectRevoked_ListsTheId()
    {
        var id = Guid.NewGuid().ToString();

        var revoke = await CeleryCommand.RunAsync(worker.BrokerUrl, "control", "revoke", id, "-d", Node, "-t", Patient);
        var revoked = await CeleryCommand.RunAsync(worker.BrokerUrl, "inspect", "revoked", "-d", Node, "-t", Patient);

        Assert.True(revoke.ExitCode == 0, $"celery control revoke exited {revoke.ExitCode}: {revoke.Output}{revoke.Error}");
        Assert.Equal($"->  {Node}: OK\n        tasks {id} flagged as revoked\n", revoke.Output);
        Assert.Contains($"    * {id}\n", revoked.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CeleryInspectStatsAndActiveQueues_ReadOurReplies()
    {
        var stats = await CeleryCommand.RunAsync(worker.BrokerUrl, "inspect", "stats", "-d", Node, "-t", Patient, "--json");
        var queues = await CeleryCommand.RunAsync(worker.BrokerUrl, "inspect", "active_queues", "-d", Node, "-t", Patient, "--json");

        Assert.True(stats.ExitCode == 0, $"celery inspect stats exited {stats.ExitCode}: {stats.Output}{stats.Error}");
        Assert.Equal(Environment.ProcessId, (int)JsonNode.Parse(stats.Output)![Node]!["pid"]!);
        Assert.Contains("celery", JsonNode.Parse(queues.Output)![Node]!.AsArray().Select(q => (string?)q!["name"]));
    }

    [Fact]
    public async Task CeleryEventsDump_ShowsOurHeartbeats_AndTheTaskEvents()
    {
        await using var dump = CeleryEventDump.Start(worker.BrokerUrl, TimeSpan.FromSeconds(120));

        // A heartbeat in the dump shows its queue is bound, so the task events sent next reach it too.
        var heartbeat = await dump.LineAsync(line => line.StartsWith($"{Node} [", StringComparison.Ordinal) && line.Contains("] heartbeat:", StringComparison.Ordinal), "heartbeat of our node");
        Assert.Contains("sw_ident=", heartbeat, StringComparison.Ordinal);
        var sent = await worker.Kit.App().DelayAsync("tasks.add", 20, 22);

        var received = await dump.LineAsync(line => line.Contains($"] task received: tasks.add({sent.Id})", StringComparison.Ordinal), "task-received");
        var succeeded = await dump.LineAsync(line => line.Contains($"] task succeeded: tasks.add({sent.Id})", StringComparison.Ordinal), "task-succeeded");
        Assert.StartsWith($"{Node} [", received, StringComparison.Ordinal);
        Assert.Contains("result=42", succeeded, StringComparison.Ordinal);
        await dump.LineAsync(line => line.Contains($"] task started: tasks.add({sent.Id})", StringComparison.Ordinal), "task-started");
    }
}
