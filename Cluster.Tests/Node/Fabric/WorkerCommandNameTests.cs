using ClusterQueue.Client;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Commands;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>The <c>worker</c> command refuses a node name that a live node already uses, with exit code 1 and a message naming it.</summary>
public sealed class WorkerCommandNameTests
{
    [Fact]
    public async Task The_worker_command_exits_1_when_its_name_is_taken()
    {
        var kit = ClusterKit.Create(ClusterBroker.Memory);
        await using var _ = kit;
        await kit.StartAsync("taken@test");
        var config = Path.Combine(kit.Directory, "node.conf");
        await File.WriteAllTextAsync(config, $$"""cluster-queue.node.state-db = "{{Path.Combine(kit.Directory, "cli-state.db").Replace("\\", "/")}}" """);

        var run = await CommandTestKit.RunAsync("worker", "-n", "taken@test", "--broker", kit.Broker.Url, "--result-backend", "memory://", "--config", config)
            .WaitAsync(ClusterKit.Patience);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("a node named 'taken@test' is already alive in the cluster", run.Error);
    }
}
