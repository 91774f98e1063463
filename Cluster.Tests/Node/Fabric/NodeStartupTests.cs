using ClusterQueue.Client;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Commands;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Start-up problems of a node: a taken name through the <c>worker</c> command, and a state db that cannot be opened.</summary>
public sealed class NodeStartupTests
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

    [Fact]
    public async Task A_state_db_that_cannot_be_opened_fails_the_start_naming_the_file()
    {
        var kit = ClusterKit.Create(ClusterBroker.Memory);
        await using var _ = kit;
        var path = Path.Combine(kit.Directory, "no-such-folder", "state.db");

        var error = await Assert.ThrowsAsync<IOException>(() => kit.StartAsync(kit.Settings("nodb@test") with { StateDb = path }));

        Assert.Contains(path, error.Message);
    }
}
