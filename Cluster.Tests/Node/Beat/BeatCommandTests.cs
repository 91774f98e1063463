using ClusterQueue.Node;
using ClusterQueue.Tests.Node.Commands;

namespace ClusterQueue.Tests.Node.Beat;

/// <summary><c>Cluster.Node beat --list</c> and <c>--once</c>, and a bad schedule's exit code, run in this process.</summary>
public sealed class BeatCommandTests : IAsyncDisposable
{
    private readonly CommandTestKit kit = new();

    private string Config(string schedule)
    {
        var file = Path.Combine(kit.Directory, "beat.conf");
        var state = Path.Combine(kit.Directory, "beat.db").Replace("\\", "/", StringComparison.Ordinal);
        File.WriteAllText(file, $$"""
            cluster-queue.beat {
              state-db = "{{state}}"
              schedule { {{schedule}} }
            }
            """);
        return file;
    }

    [Fact]
    public async Task List_PrintsEachEntryWithItsLastAndNextRun()
    {
        var config = Config("""
            add { task = "tasks.add", every = 10s, args = [2, 2] }
            nightly { task = "tasks.cleanup", crontab = "0 3 * * *" }
            """);
        var run = await CommandTestKit.RunAsync("beat", "--list", "--config", config);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("add: tasks.add every 10s; last run never; next run 20", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^nightly: tasks.cleanup crontab 0 3 \* \* \*; last run never; next run \d{4}-\d\d-\d\d 03:00:00Z$", lines[1]);
    }

    [Fact]
    public async Task Once_SendsTheDueRunOnce_AndListShowsIt()
    {
        var config = Config("""tick { task = "tasks.add", every = 1s, args = [2, 2], queue = "beat-once" }""");

        // The first pass only starts the entry's count; a later one finds the run due and sends it.
        CliRun? sent = null;
        await WorkerHarness.EventuallyAsync(
            async () =>
            {
                var run = await CommandTestKit.RunAsync("beat", "--once", "--config", config, "--broker", kit.BrokerUrl);
                Assert.Equal(ExitCodes.Ok, run.ExitCode);
                sent = run;
                return run.Output.Contains("sent 1 due run", StringComparison.Ordinal);
            },
            "a due run");
        Assert.Contains("tick: tasks.add every 1s; last run 20", sent!.Output, StringComparison.Ordinal);

        var message = await kit.TakeAsync("beat-once");
        Assert.Equal("tasks.add", message.Task);
        Assert.Equal("[2,2]", message.Args.ToJsonString());
        Assert.Equal(5, Guid.Parse(message.Id).Version);

        var list = await CommandTestKit.RunAsync("beat", "--list", "--config", config);
        Assert.DoesNotContain("last run never", list.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""e { every = 1s }""", "cluster-queue.beat.schedule.e.task")]
    [InlineData("""e { task = t, every = 1s, crontab = "* * * * *" }""", "cluster-queue.beat.schedule.e")]
    [InlineData("""e { task = t, crontab = "* * * * 9" }""", "cluster-queue.beat.schedule.e.crontab")]
    public async Task BadSchedule_Exits78_NamingTheKey(string entry, string key)
    {
        var run = await CommandTestKit.RunAsync("beat", "--list", "--config", Config(entry));
        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains($"config error: {key}", run.Error, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => kit.DisposeAsync();
}
