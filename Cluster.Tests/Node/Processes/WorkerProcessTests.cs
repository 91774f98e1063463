using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>Worker processes are heavy on a two-core machine: these tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeProcessCollection
{
    public const string Name = "node processes";
}

[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
public class WorkerProcessTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task SigkillDuringALateAckTask_TheTaskRunsOnASecondWorker()
    {
        await using var dir = new ProcessTestDirectory();
        // A short visibility timeout so the dead worker's lease on the message lapses quickly.
        var config = dir.WriteConfig("cluster-queue.broker.visibility-timeout = 2s\n");
        string[] common = ["-c", "1", "--acks-late", "-l", "debug", "--config", config, .. dir.Connection];

        await using var first = NodeProcess.Start(dir.Path, ["worker", "-n", "first@%h", .. common]);
        await first.WaitForLineAsync(l => l.StartsWith("first@", StringComparison.Ordinal) && l.EndsWith(" ready.", StringComparison.Ordinal), "the first worker to be ready", Generous);
        // Long enough that the first worker cannot finish it between the started line and the kill, even on a loaded machine.
        var sent = await dir.Client.SendTaskAsync("tasks.sleep", [10]);
        await first.WaitForLineAsync(l => l.Contains($"tasks.sleep[{sent.Id}] started", StringComparison.Ordinal), "the first worker to start the task", Generous);

        first.KillHard();
        Assert.NotEqual(0, await first.WaitForExitAsync(Generous));
        Assert.Equal(TaskStates.Pending, await sent.GetStateAsync());

        await using var second = NodeProcess.Start(dir.Path, ["worker", "-n", "second@%h", .. common]);
        await second.WaitForLineAsync(l => l.Contains($"tasks.sleep[{sent.Id}] succeeded", StringComparison.Ordinal), "the second worker to run the task", Generous);

        Assert.Equal(10.0, (await sent.GetAsync(Generous))!.GetValue<double>());
        Assert.DoesNotContain(first.Lines, l => l.Contains($"[{sent.Id}] succeeded", StringComparison.Ordinal));
        await second.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await second.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task SigtermDuring200RunningLateAckTasks_FinishesAndAcksEveryOne_AndTheWorkerExits0()
    {
        const int count = 200;
        await using var dir = new ProcessTestDirectory();
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-c", "200", "--prefetch-multiplier", "1", "--acks-late", "-l", "debug", .. dir.Connection]);
        await worker.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the worker to be ready", Generous);

        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await dir.Client.SendTaskAsync("tasks.sleep", [4])).Id);
        }

        await worker.WaitForAsync(lines => lines.Count(l => l.Contains("] started", StringComparison.Ordinal)) == count, $"all {count} tasks to be running", Generous);
        await worker.SignalAsync("TERM");

        Assert.Equal(ExitCodes.Ok, await worker.WaitForExitAsync(Generous));
        var succeeded = 0;
        foreach (var id in ids)
        {
            var result = await dir.Client.Results.GetAsync(id);
            if (result is { Status: TaskStates.Success, Result: JsonValue value } && value.GetValue<double>() == 4.0)
            {
                succeeded++;
            }
        }

        Assert.Equal(count, succeeded);
        Assert.Contains(worker.Lines, l => l.Contains("warm shutdown", StringComparison.Ordinal));
        // Late acks: a task left unacked would still be on the queue.
        var purge = await Commands.CommandTestKit.RunAsync("purge", "--force", "--broker", dir.BrokerUrl);
        Assert.Contains("celery: 0", purge.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondSigterm_IsAColdShutdown_ThatExits1_AndReturnsTheLateAckTaskToTheQueue()
    {
        await using var dir = new ProcessTestDirectory();
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-c", "1", "--acks-late", "-l", "debug", .. dir.Connection]);
        await worker.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the worker to be ready", Generous);
        var sent = await dir.Client.SendTaskAsync("tasks.sleep", [600]);
        await worker.WaitForLineAsync(l => l.Contains($"[{sent.Id}] started", StringComparison.Ordinal), "the task to start", Generous);

        await worker.SignalAsync("TERM");
        await worker.WaitForLineAsync(l => l.Contains("warm shutdown", StringComparison.Ordinal), "the warm shutdown to begin", Generous);
        await worker.SignalAsync("TERM");

        Assert.Equal(ExitCodes.Failure, await worker.WaitForExitAsync(Generous));
        Assert.Contains(worker.Lines, l => l.Contains("cold shutdown", StringComparison.Ordinal));
        Assert.NotEqual(TaskStates.Success, await sent.GetStateAsync());
        var purge = await Commands.CommandTestKit.RunAsync("purge", "--force", "--broker", dir.BrokerUrl);
        Assert.Contains("celery: 1", purge.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerPurge_RemovesWaitingTasksBeforeStarting_AndPrintsTheCount()
    {
        await using var dir = new ProcessTestDirectory();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await dir.Client.SendTaskAsync("tasks.add", [i, i])).Id);
        }

        await using var worker = NodeProcess.Start(dir.Path, ["worker", "--purge", .. dir.Connection]);
        await worker.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the worker to be ready", Generous);
        var after = await dir.Client.SendTaskAsync("tasks.add", [20, 22]);

        Assert.Equal(42, (await after.GetAsync(Generous))!.GetValue<long>());
        Assert.Contains("celery: 3", worker.Lines);
        Assert.Contains("Purged 3 messages from 1 known task queue.", worker.Lines);
        foreach (var id in ids)
        {
            Assert.Null(await dir.Client.Results.GetAsync(id));
        }

        await worker.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await worker.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task Demo_AsAProcess_Exits0_WithEveryTaskAccountedFor()
    {
        await using var dir = new ProcessTestDirectory();
        await using var demo = NodeProcess.Start(dir.Path, "demo", "--tasks", "200");

        var exitCode = await demo.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exitCode == ExitCodes.Ok, demo.Output);
        Assert.Contains("lost: 0, wrong results: 0", demo.Lines);
        Assert.Contains(demo.Lines, l => l.StartsWith("200 tasks in ", StringComparison.Ordinal));
        Assert.Contains(demo.Lines, l => l.Contains("demo1@", StringComparison.Ordinal));
        Assert.Contains(demo.Lines, l => l.Contains("demo2@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Worker_UnknownAppAssembly_ExitsWithAUsageError_AndNoStackTrace()
    {
        await using var dir = new ProcessTestDirectory();
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-A", "missing/Tasks.dll", .. dir.Connection]);

        Assert.Equal(ExitCodes.Usage, await worker.WaitForExitAsync(Generous));
        Assert.Contains("error: --app: no such file 'missing/Tasks.dll'", worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", worker.Output, StringComparison.Ordinal);
    }
}
