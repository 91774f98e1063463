using ClusterQueue.Results;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Tests.Results;

/// <summary>What only a file shared by several processes shows; each second backend instance stands in for another process.</summary>
public sealed class SqliteResultBackendTests : BackendTestBase, IDisposable
{
    private readonly TempDatabase database = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new SqliteResultBackend(database.FilePath, settings, time);

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task Wait_ResultStoredByAnotherInstance_CompletesByPolling()
    {
        var client = Open();
        var worker = Open();
        var waiting = client.WaitAsync("t-x", Generous);

        await worker.StoreAsync(new TaskResult { TaskId = "t-x", Status = TaskStates.Started });
        await worker.StoreAsync(TaskResult.Succeeded("t-x", 42));

        var result = await waiting;
        Assert.Equal(42, (int?)result.Result);
    }

    [Fact]
    public async Task Store_LateStateFromAnotherInstance_IsIgnored()
    {
        var first = Open();
        var second = Open();
        await first.StoreAsync(TaskResult.Succeeded("t-y", 1));

        Assert.False(await second.StoreAsync(new TaskResult { TaskId = "t-y", Status = TaskStates.Started }));
        Assert.Equal(TaskStates.Success, (await first.GetAsync("t-y"))!.Status);
    }

    [Fact]
    public async Task Store_ConcurrentWritersInSeveralInstances_LosesNothing()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => Open()).ToList();

        await Task.WhenAll(instances.Select((backend, n) => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await backend.StoreAsync(TaskResult.Succeeded($"p{n}-{i}", i));
            }
        })));

        Assert.Equal(200, CountRows());
        Assert.Equal(49, (int?)(await instances[0].GetAsync("p3-49"))!.Result);
    }

    [Fact]
    public async Task Reopen_KeepsStoredResults()
    {
        await Backend.StoreAsync(ResultFixtures.Failure("t-keep"));
        await Backend.DisposeAsync();

        var reopened = Open();

        Assert.Equal(TaskStates.Failure, (await reopened.GetAsync("t-keep"))!.Status);
    }

    [Theory]
    [InlineData("result", "{broken")]
    [InlineData("children", "[[")]
    [InlineData("args", "(1, 2)")]
    [InlineData("date_done", "last tuesday")]
    public async Task Get_BadStoredValue_ThrowsNamingTaskAndColumn(string column, string value)
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-bad", 1) with { Args = new System.Text.Json.Nodes.JsonArray(1) });
        Execute($"UPDATE celery_taskmeta SET {column} = $v WHERE task_id = 't-bad'", value);

        var error = await Assert.ThrowsAsync<ResultFormatException>(() => Backend.GetAsync("t-bad"));

        Assert.Equal("t-bad", error.TaskId);
        Assert.Equal(column, error.Field);
        Assert.Contains("'t-bad'", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ResultFormatException>(() => new AsyncResult("t-bad", Backend).GetAsync(Generous));
    }

    [Fact]
    public void Schema_IsCeleryTaskmetaWithExpiryIndexInWalMode()
    {
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal("celery_taskmeta_expires_at", Scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'celery_taskmeta' AND sql LIKE '%expires_at%'"));
    }

    private long CountRows() => (long)Scalar("SELECT COUNT(*) FROM celery_taskmeta")!;

    private object? Scalar(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Execute(string sql, string value)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={database.FilePath};Pooling=False");
        connection.Open();
        return connection;
    }
}
