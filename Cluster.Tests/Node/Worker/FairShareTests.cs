using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class FairShareTests
{
    private const int Burst = 1000;

    [Theory]
    [InlineData("default")]
    [InlineData("fair")]
    public async Task Two_equal_nodes_on_the_embedded_broker_each_run_35_to_65_percent_of_a_burst_of_short_tasks(string optimization)
    {
        // The shipped polling interval, as the demo and a default deployment run.
        var broker = NewBroker(TestBroker.Sqlite) with { PollingInterval = TimeSpan.FromMilliseconds(100) };
        await using var client = OpenApp(broker, Registry());
        var settings = new WorkerSettings { Concurrency = 2, Optimization = optimization, StateDb = "" };
        await using var first = await StartNodeAsync(broker, settings with { Name = "first@test" });
        await using var second = await StartNodeAsync(broker, settings with { Name = "second@test" });

        for (var i = 0; i < Burst; i++)
        {
            await client.SendTaskAsync("tasks.sleep", [0.002]);
        }

        await EventuallyAsync(() => first.Stats.Succeeded + second.Stats.Succeeded == Burst, $"all {Burst} tasks to finish", TimeSpan.FromMinutes(3));
        var share = first.Stats.Succeeded / (double)Burst;
        Assert.InRange(share, 0.35, 0.65);
    }

    private static async Task<TestWorker> StartNodeAsync(ClusterQueue.Transport.BrokerSettings broker, WorkerSettings settings)
    {
        var app = OpenApp(broker, Registry());
        return new TestWorker(await WorkerTestHarness.StartAsync(app, settings), app);
    }
}
