using System.Diagnostics;
using ClusterQueue.Tests.Peer;
using Xunit.Abstractions;

namespace ClusterQueue.Tests.Transport;

/// <summary>Several processes sharing one SQLite broker file, one of them killed mid-work.</summary>
public sealed class SqliteCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int MessageCount = 10_000;
    private static readonly TimeSpan ProcessPatience = TimeSpan.FromMinutes(3);
    private readonly string directory = Directory.CreateTempSubdirectory("cq-peers-").FullName;
    private readonly List<Process> processes = [];

    public void Dispose()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task A_killed_consumer_loses_no_message_every_one_is_processed_at_least_once()
    {
        var db = Path.Combine(directory, "broker.db");
        var killedLog = Path.Combine(directory, "killed.log");
        var survivorLog = Path.Combine(directory, "survivor.log");
        // A short visibility timeout so the killed consumer's messages come back quickly; the killed one works
        // slowly, so it holds a full prefetch window of unacked messages when it dies.
        var killed = Start("sqlite-consume", db, "work", killedLog, "2000", "20", "1");
        var survivor = Start("sqlite-consume", db, "work", survivorLog, "2000", "20", "0");
        var publisher = Start("sqlite-publish", db, "work", MessageCount.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Midway by the combined count: how the two share the queue depends on scheduling, not on the code under test.
        // The first consumer must be at work, so that it holds unacked messages when it dies.
        await EventuallyAsync(
            () => ReadLog(killedLog).Count > 0 && ReadLog(killedLog).Count + ReadLog(survivorLog).Count >= MessageCount / 3,
            "a third of the messages being processed, some by the first consumer");
        killed.Kill(entireProcessTree: true);
        await killed.WaitForExitAsync().WaitAsync(ProcessPatience);
        var processedBeforeKill = ReadLog(killedLog);

        await publisher.WaitForExitAsync().WaitAsync(ProcessPatience);
        Assert.True(publisher.ExitCode == 0, await publisher.StandardError.ReadToEndAsync());
        await EventuallyAsync(
            () => ReadLog(killedLog).Concat(ReadLog(survivorLog)).Select(l => l.Id).Distinct().Count() == MessageCount,
            "every message being processed");
        survivor.StandardInput.Close();
        await survivor.WaitForExitAsync().WaitAsync(ProcessPatience);

        var all = ReadLog(killedLog).Concat(ReadLog(survivorLog)).ToList();
        var distinct = all.Select(l => l.Id).ToHashSet();
        output.WriteLine(
            $"processed {all.Count} times for {distinct.Count} distinct messages: {all.Count - distinct.Count} duplicates, " +
            $"{all.Count(l => l.Redelivered)} redeliveries; the killed consumer had processed {processedBeforeKill.Count}");
        Assert.True(survivor.ExitCode == 0, await survivor.StandardError.ReadToEndAsync());
        Assert.True(processedBeforeKill.Count < MessageCount, "the kill came after all the work was done");
        Assert.Equal(Enumerable.Range(0, MessageCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), distinct.Order());
    }

    private Process Start(string role, params string[] arguments)
    {
        var process = PeerProcess.Start(role, arguments);
        processes.Add(process);
        return process;
    }

    /// <summary>The complete lines of a consumer's log; a line cut short by the kill is not counted.</summary>
    private static List<(string Id, bool Redelivered)> ReadLog(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return lines[..^1].Select(line => line.Split(' ')).Select(parts => (parts[0], parts.Length > 1)).ToList();
    }

    /// <summary>Polls a probe of the peers' logs, the only signal child processes give, until it holds.</summary>
    private static async Task EventuallyAsync(Func<bool> probe, string what)
    {
        var deadline = DateTime.UtcNow + ProcessPatience;
        while (!probe())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not happen within {ProcessPatience}");
            }

            await Task.Delay(20);
        }
    }
}
