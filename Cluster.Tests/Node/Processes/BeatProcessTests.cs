using ClusterQueue.Node;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary><c>worker -B</c> as a process: the worker runs the tasks its embedded beat sends, and a SIGTERM stops both.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
public class BeatProcessTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task WorkerDashB_RunsTheScheduledTask_AndExits0OnSigterm()
    {
        await using var dir = new ProcessTestDirectory();
        var state = System.IO.Path.Combine(dir.Path, "beat.db").Replace("\\", "/", StringComparison.Ordinal);
        var config = dir.WriteConfig($$"""
            cluster-queue.beat {
              state-db = "{{state}}"
              schedule { add { task = "tasks.add", every = 1s, args = [2, 2] } }
            }
            """);
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-B", "-c", "1", "--config", config, .. dir.Connection]);
        await worker.WaitForAsync(
            lines => lines.Count(l => l.Contains("tasks.add[", StringComparison.Ordinal) && l.Contains("] succeeded", StringComparison.Ordinal)) >= 2,
            "two scheduled runs to succeed",
            Generous);

        await worker.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await worker.WaitForExitAsync(Generous));
        Assert.Contains(worker.Lines, l => l.StartsWith("beat: 1 entries", StringComparison.Ordinal));
    }
}
