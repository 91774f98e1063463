using ClusterQueue.Node;

namespace ClusterQueue.Tests.Node.Commands;

public class PurgeCommandTests
{
    [Fact]
    public async Task Purge_RemovesWaitingMessages_AndPrintsCountsPerQueue()
    {
        await using var kit = new CommandTestKit();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ExitCodes.Ok, (await kit.RunWithBrokerAsync("call", "tasks.noop")).ExitCode);
        }

        Assert.Equal(ExitCodes.Ok, (await kit.RunWithBrokerAsync("call", "tasks.noop", "-Q", "other")).ExitCode);

        var run = await kit.RunWithBrokerAsync("purge", "-Q", "celery,other,unused", "--force");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var nl = Environment.NewLine;
        Assert.Equal($"celery: 3{nl}other: 1{nl}unused: 0{nl}Purged 4 messages from 3 known task queues.{nl}", run.Output);
        var again = await kit.RunWithBrokerAsync("purge", "--force");
        Assert.Equal($"celery: 0{nl}Purged 0 messages from 1 known task queue.{nl}", again.Output);
    }

    [Fact]
    public async Task Purge_EmptyQueueName_IsAUsageErrorNamingTheOption()
    {
        await using var kit = new CommandTestKit();

        var run = await kit.RunWithBrokerAsync("purge", "-Q", "a,,b", "--force");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--queues", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_ExcludeQueues_LeavesThoseQueuesAsTheyWere()
    {
        await using var kit = new CommandTestKit();
        Assert.Equal(ExitCodes.Ok, (await kit.RunWithBrokerAsync("call", "tasks.noop")).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await kit.RunWithBrokerAsync("call", "tasks.noop", "-Q", "keep")).ExitCode);

        var run = await kit.RunWithBrokerAsync("purge", "-Q", "celery,keep", "-X", "keep", "--force");

        var nl = Environment.NewLine;
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"celery: 1{nl}Purged 1 message from 1 known task queue.{nl}", run.Output);
        Assert.Equal("tasks.noop", (await kit.TakeAsync("keep")).Task);
    }

    [Fact]
    public async Task Purge_ExcludingEveryQueue_IsAUsageErrorNamingTheOption()
    {
        await using var kit = new CommandTestKit();

        var run = await kit.RunWithBrokerAsync("purge", "-Q", "a", "-X", "a", "--force");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--exclude-queues leaves no queue to purge (a)", run.Error, StringComparison.Ordinal);
    }
}
