using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Monitor;

/// <summary>The monitor's state survives a restart through Akka.Persistence.Sql on SQLite.</summary>
public sealed class MonitorPersistenceTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cq-monitor-state-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public Task Tasks_workers_and_counts_are_there_again_after_a_restart_and_retention_leaves_old_tasks_out() =>
        RestartKeepsStateAsync(new MonitorSettings { StateDb = Path.Combine(directory, "monitor.db"), Retention = TimeSpan.FromHours(1) });

    /// <summary>The same on PostgreSQL, test.sh's private server; a missing one fails, since a skipped test proves nothing.</summary>
    [Fact]
    [Trait("Server", "PostgreSQL")]
    public async Task On_postgresql_the_state_is_there_again_after_a_restart()
    {
        // A schema of its own, so that what an earlier run left in the same database is not counted.
        using var schema = new Results.PostgresTestSchema();
        await RestartKeepsStateAsync(new MonitorSettings { StatePostgres = schema.ConnectionString, StateDb = "", Retention = TimeSpan.FromHours(1) });
    }

    private static async Task RestartKeepsStateAsync(MonitorSettings settings)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        await using (var first = await StartAsync(settings))
        {
            first.Ingest(new WorkerEvent(WorkerEvent.Online) { Hostname = "celery@py", Freq = 2, Timestamp = now, SwIdent = "py-celery" });
            first.Ingest(new TaskReceivedEvent("old", "tasks.add", "(1, 1)", "{}") { Hostname = "celery@py", Timestamp = now - 7200 });
            first.Ingest(new TaskReceivedEvent("kept", "tasks.add", "(2, 2)", "{}") { Hostname = "celery@py", Timestamp = now - 1 });
            first.Ingest(new TaskSucceededEvent("kept", "4", 0.25) { Hostname = "celery@py", Timestamp = now });
        }

        await using var second = await StartAsync(settings);

        var kept = second.State.Task("kept");
        Assert.NotNull(kept);
        Assert.Equal(TaskStates.Success, kept.State);
        Assert.Equal("4", kept.Result);
        Assert.Equal("(2, 2)", kept.Args);
        Assert.Null(second.State.Task("old"));
        Assert.Equal(["celery@py"], second.State.Workers().Select(w => w.Hostname));
        var type = Assert.Single(second.State.TaskTypes());
        Assert.Equal(2L, type.Total);
        Assert.Equal(0.25, type.RuntimeP50);
        Assert.Equal(4L, second.State.EventCount);
    }

    [Fact]
    public async Task Without_a_state_db_the_state_starts_empty_each_time()
    {
        var settings = new MonitorSettings { StateDb = "" };
        await using (var first = await StartAsync(settings))
        {
            first.Ingest(new TaskStartedEvent("t") { Hostname = "w@a", Timestamp = 1 });
            Assert.NotNull(first.State.Task("t"));
        }

        await using var second = await StartAsync(settings);
        Assert.Null(second.State.Task("t"));
    }

    private static Task<MonitorNode> StartAsync(MonitorSettings settings) =>
        MonitorNode.StartAsync(settings, new ClusterSettings(), ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
}
