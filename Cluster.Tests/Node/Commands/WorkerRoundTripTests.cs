using ClusterQueue.Client;
using ClusterQueue.Node;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>The client commands against a real worker node running in this process on the kit's memory broker.</summary>
public class WorkerRoundTripTests
{
    [Fact]
    public async Task CallWaitAndResult_AgainstARealWorker_PrintTheValueAndTheFailure()
    {
        await using var kit = new CommandTestKit();
        await using var app = ClusterQueueApp.Open(
            new BrokerSettings { Url = kit.BrokerUrl },
            new ResultSettings { Backend = kit.ResultBackendUrl },
            tasks: new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly));
        await using var worker = await WorkerNode.StartAsync(new WorkerSettings { Concurrency = 2, StateDb = Path.Combine(kit.Directory, "state.db") }, app);

        var added = await kit.RunWithBrokerAsync("call", "tasks.add", "--args", "[2, 3]", "--wait", "--timeout", "30");
        var failed = await kit.RunWithBrokerAsync("call", "tasks.fail", "--args", "[\"no luck\"]", "--wait", "--timeout", "30");
        var sent = await kit.RunWithBrokerAsync("call", "tasks.mul", "--kwargs", "{\"x\": 6, \"y\": 7}");
        var id = sent.Output.Trim();
        var read = await kit.RunWithBrokerAsync("result", id, "--timeout", "30");

        Assert.Equal((ExitCodes.Ok, "5"), (added.ExitCode, added.Output.Trim()));
        Assert.Equal(ExitCodes.Failure, failed.ExitCode);
        Assert.Matches("^task [0-9a-f-]{36} failed: System.InvalidOperationException: no luck$", failed.Error.Trim());
        Assert.Equal(ExitCodes.Ok, read.ExitCode);
        Assert.Equal($"state: SUCCESS{Environment.NewLine}result: 42{Environment.NewLine}", read.Output);
        await worker.WarmShutdownAsync();
        Assert.Equal(3, worker.Stats.Succeeded + worker.Stats.Failed);
    }
}
