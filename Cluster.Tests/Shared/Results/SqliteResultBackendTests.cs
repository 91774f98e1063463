using ClusterQueue.Results;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Tests.Results;

/// <summary>The shared-store contract on one SQLite file, and what is SQLite's own.</summary>
public sealed class SqliteResultBackendTests : SharedStoreContract, IDisposable
{
    private readonly TempDatabase database = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new SqliteResultBackend(database.FilePath, settings, time);

    public void Dispose() => database.Dispose();

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

    protected override long CountRows() => (long)Scalar("SELECT COUNT(*) FROM celery_taskmeta")!;

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
