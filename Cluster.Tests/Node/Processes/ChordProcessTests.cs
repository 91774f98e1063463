using ClusterQueue.Node;
using static ClusterQueue.Canvas.Workflow;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>A chord across worker processes on a shared SQLite broker and store, with a crash in the middle.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
public sealed class ChordProcessTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task A_chord_whose_first_worker_is_killed_mid_header_completes_on_a_second_worker_and_its_body_runs_once()
    {
        const int members = 30;
        await using var dir = new ProcessTestDirectory();
        // A short visibility timeout so the killed worker's late-ack members come back quickly.
        var config = dir.WriteConfig("cluster-queue.broker.visibility-timeout = 2s\n");
        string[] common = ["-c", "2", "--acks-late", "-l", "debug", "--config", config, .. dir.Connection];

        await using var first = NodeProcess.Start(dir.Path, ["worker", "-n", "first@%h", .. common]);
        await first.WaitForLineAsync(l => l.StartsWith("first@", StringComparison.Ordinal) && l.EndsWith(" ready.", StringComparison.Ordinal), "the first worker to be ready", Generous);
        var chord = await dir.Client.ApplyAsync(Chord(Enumerable.Range(0, members).Select(_ => Task("tasks.sleep", 0.25)), Task("tasks.xsum")));
        await first.WaitForAsync(
            lines => lines.Count(l => l.Contains("tasks.sleep[", StringComparison.Ordinal) && l.Contains("] succeeded", StringComparison.Ordinal)) >= 6,
            "the first worker to finish a few members",
            Generous);

        first.KillHard();
        Assert.NotEqual(0, await first.WaitForExitAsync(Generous));
        await using var second = NodeProcess.Start(dir.Path, ["worker", "-n", "second@%h", .. common]);

        Assert.Equal(members * 0.25, (await chord.GetAsync(Generous))!.GetValue<double>());
        // The result can be stored before the worker writes its log line.
        await second.WaitForLineAsync(l => l.Contains("tasks.xsum[", StringComparison.Ordinal) && l.Contains("] succeeded", StringComparison.Ordinal), "the body's succeeded line", Generous);
        var bodyRuns = first.Lines.Concat(second.Lines).Count(l => l.Contains("tasks.xsum[", StringComparison.Ordinal) && l.Contains("] succeeded", StringComparison.Ordinal));
        Assert.Equal(1, bodyRuns);
        Assert.Contains(second.Lines, l => l.Contains("tasks.sleep[", StringComparison.Ordinal) && l.Contains("] succeeded", StringComparison.Ordinal));
        await second.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await second.WaitForExitAsync(Generous));
    }
}
