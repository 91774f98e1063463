using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Tests.Node.Fabric;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary><c>inspect</c>, <c>control</c> and <c>status</c> in process against real worker nodes on a memory broker.</summary>
public sealed class WorkerNodeCommandTests : IAsyncLifetime
{
    private const string Node = "cq@a";

    // Calls name their destination, so they end as soon as it replied; the timeout only bounds a failure.
    private const string Patient = "30";

    private readonly ClusterKit kit = ClusterKit.Create(ClusterBroker.Memory);

    public async Task InitializeAsync() => await kit.StartAsync(Node);

    public async Task DisposeAsync() => await kit.DisposeAsync();

    [Fact]
    public async Task Status_ListsEveryRunningNode()
    {
        await kit.StartAsync("cq@b");

        var run = await RunAsync("status", "-d", "cq@a,cq@b", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("->  cq@a: OK", run.Output, StringComparison.Ordinal);
        Assert.Contains("->  cq@b: OK", run.Output, StringComparison.Ordinal);
        Assert.EndsWith("2 nodes online." + Environment.NewLine, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimit_IsApplied_AndShownByInspectRegistered()
    {
        var set = await RunAsync("control", "rate_limit", "tasks.add", "5/m", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, set.ExitCode);
        Assert.Equal($"->  {Node}: OK{Environment.NewLine}        new rate limit set successfully{Environment.NewLine}", set.Output);
        var registered = await RunAsync("inspect", "registered", "rate_limit", "-d", Node, "-t", Patient);
        Assert.Contains($"    * tasks.add [rate_limit=5/m]{Environment.NewLine}", registered.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimit_BadRate_PrintsTheNodesErrorAndExits1()
    {
        var run = await RunAsync("control", "rate_limit", "tasks.add", "10/x", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Equal($"->  {Node}: ERROR{Environment.NewLine}        KeyError('x'){Environment.NewLine}", run.Output);
    }

    [Fact]
    public async Task RateLimit_UnknownTask_PrintsUnknownTask()
    {
        var run = await RunAsync("control", "rate_limit", "tasks.nope", "5/m", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Equal($"->  {Node}: ERROR{Environment.NewLine}        unknown task{Environment.NewLine}", run.Output);
    }

    [Fact]
    public async Task Revoke_ThenInspectRevoked_ListsTheId()
    {
        var id = Guid.NewGuid().ToString();

        var revoke = await RunAsync("control", "revoke", id, "-d", Node, "-t", Patient);
        var revoked = await RunAsync("inspect", "revoked", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, revoke.ExitCode);
        Assert.Contains($"        tasks {id} flagged as revoked", revoke.Output, StringComparison.Ordinal);
        Assert.Contains($"    * {id}{Environment.NewLine}", revoked.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddConsumer_ThenCancelConsumer_ChangeTheActiveQueues()
    {
        var add = await RunAsync("control", "add_consumer", "extra", "-d", Node, "-t", Patient);
        var withExtra = await QueueNamesAsync();
        var cancel = await RunAsync("control", "cancel_consumer", "extra", "-d", Node, "-t", Patient);
        var withoutExtra = await QueueNamesAsync();

        Assert.Contains("        add consumer extra", add.Output, StringComparison.Ordinal);
        Assert.Contains("extra", withExtra);
        Assert.Contains("        no longer consuming from extra", cancel.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("extra", withoutExtra);
        Assert.Contains("celery", withoutExtra);
    }

    [Fact]
    public async Task Stats_Json_IsKeyedByNode_WithItsPid()
    {
        var run = await RunAsync("inspect", "stats", "--json", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(Environment.ProcessId, (int)JsonNode.Parse(run.Output)![Node]!["pid"]!);
    }

    [Theory]
    [InlineData("time_limit|tasks.add|10|20", "time limits set successfully")]
    [InlineData("pool_grow|1", "pool will grow")]
    [InlineData("enable_events", "task events enabled")]
    [InlineData("disable_events", "task events already disabled")]
    [InlineData("heartbeat", "None")]
    public async Task Control_IsAnsweredByTheNode(string call, string reply)
    {
        var run = await RunAsync(["control", .. call.Split('|'), "-d", Node, "-t", Patient]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains($"{reply}{Environment.NewLine}", run.Output, StringComparison.Ordinal);
        Assert.StartsWith($"->  {Node}: OK{Environment.NewLine}", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_StopsTheNamedNode()
    {
        var other = await kit.StartAsync("cq@b");

        var run = await RunAsync("control", "shutdown", "-d", "cq@b");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        await other.Completion.WaitAsync(ClusterKit.Patience);
        var status = await RunAsync("status", "-d", Node, "-t", Patient);
        Assert.Contains($"->  {Node}: OK", status.Output, StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<string>> QueueNamesAsync()
    {
        var run = await RunAsync("inspect", "active_queues", "--json", "-d", Node, "-t", Patient);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        return [.. JsonNode.Parse(run.Output)![Node]!.AsArray().Select(q => (string)q!["name"]!)];
    }

    private Task<CliRun> RunAsync(params string[] call) => CommandTestKit.RunAsync([.. call, "--broker", kit.Broker.Url]);
}
