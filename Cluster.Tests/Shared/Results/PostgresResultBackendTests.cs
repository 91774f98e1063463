using System.Text.Json.Nodes;
using ClusterQueue.Results;
using Npgsql;

namespace ClusterQueue.Tests.Results;

[Trait("Server", "PostgreSQL")]
public sealed class PostgresResultBackendContractTests : ChordCountingContract, IDisposable
{
    private readonly PostgresTestSchema schema = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new PostgresResultBackend(schema.ConnectionString, settings, time);

    public void Dispose() => schema.Dispose();
}

[Trait("Server", "PostgreSQL")]
public sealed class PostgresAsyncResultTests : AsyncResultContract, IDisposable
{
    private readonly PostgresTestSchema schema = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new PostgresResultBackend(schema.ConnectionString, settings, time);

    public void Dispose() => schema.Dispose();
}

/// <summary>The shared-store contract on one PostgreSQL schema, and what is PostgreSQL's own (NOTIFY, lost connections, creation races).</summary>
[Trait("Server", "PostgreSQL")]
public sealed class PostgresResultBackendTests : SharedStoreContract, IDisposable
{
    private readonly PostgresTestSchema schema = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new PostgresResultBackend(schema.ConnectionString, settings, time);

    protected override long CountRows() => Convert.ToInt64(schema.Scalar("SELECT COUNT(*) FROM celery_taskmeta"), System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => schema.Dispose();

    [Fact]
    public async Task Wait_ResultStoredByAnotherInstance_IsWokenByNotifyBeforeAnyPoll()
    {
        // Its own application name, so that only its LISTEN counts below; a poll every 10 minutes cannot be what wakes it.
        var (client, application) = OpenNamed("cq-listen", Settings with { PollingInterval = TimeSpan.FromMinutes(10) });
        var worker = Open();
        var waiting = client.WaitAsync("t-n", Generous);
        await WaitUntilListeningAsync(application);

        await worker.StoreAsync(TaskResult.Succeeded("t-n", 5));

        Assert.Equal(5, (int?)(await waiting.WaitAsync(Generous)).Result);
    }

    [Fact]
    public async Task Store_ConcurrentStatesFromSeveralInstances_HighestReadyStateWins()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => Open()).ToList();
        string[] states = [TaskStates.Started, TaskStates.Failure, TaskStates.Success, TaskStates.Revoked, TaskStates.Retry];

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            instances[i % instances.Count].StoreAsync(new TaskResult { TaskId = "t-race", Status = states[i % states.Length] }))));

        Assert.Equal(TaskStates.Success, (await instances[0].GetAsync("t-race"))!.Status);
    }

    [Fact]
    public async Task Open_SeveralProcessesAtOnceOnAnEmptySchema_AllGetTheOneTable()
    {
        using var fresh = new PostgresTestSchema();

        var backends = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => new PostgresResultBackend(fresh.ConnectionString, Settings, Clock))));
        try
        {
            await backends[0].StoreAsync(TaskResult.Succeeded("t-one", 1));
            Assert.Equal(1, (int?)(await backends[5].GetAsync("t-one"))!.Result);
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Store_AfterTheServerDroppedEveryConnection_RetriesOnANewOne()
    {
        // Its own application name, so the terminate below meets this backend's connections and no other test's.
        var (backend, application) = OpenNamed("cq-lost");
        await backend.StoreAsync(new TaskResult { TaskId = "t-lost", Status = TaskStates.Started });

        Assert.True(TerminateConnections(application) > 0, "the backend should hold an idle pooled connection to terminate");
        Assert.True(await backend.StoreAsync(TaskResult.Succeeded("t-lost", 7)));

        Assert.True(TerminateConnections(application) > 0);
        var read = await backend.GetAsync("t-lost");
        Assert.Equal(TaskStates.Success, read!.Status);
        Assert.Equal(7, (int?)read.Result);

        Assert.True(TerminateConnections(application) > 0);
        Assert.True(await backend.ForgetAsync("t-lost"));
    }

    [Fact]
    public async Task ChordPartReturn_AfterTheServerDroppedEveryConnection_RetriesAndStillFiresOnce()
    {
        var (backend, application) = OpenNamed("cq-chord-lost");
        await backend.SaveGroupAsync("g-lost", ["a", "b"]);

        Assert.True(TerminateConnections(application) > 0);
        Assert.False(await backend.ChordPartReturnAsync("g-lost", "a"));
        Assert.True(TerminateConnections(application) > 0);
        Assert.True(await backend.ChordPartReturnAsync("g-lost", "b"));
        Assert.False(await backend.ChordPartReturnAsync("g-lost", "b"));
        Assert.Equal(2L, Convert.ToInt64(schema.Scalar("SELECT done FROM celery_tasksetmeta WHERE taskset_id = 'g-lost'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void LostConnection_IsTransient_ButABadLoginIsNot()
    {
        Assert.True(PostgresResultBackend.IsConnectionLost(new NpgsqlException("read failed", new IOException("connection reset"))));
        Assert.False(PostgresResultBackend.IsConnectionLost(new InvalidOperationException("no")));

        var login = new NpgsqlConnectionStringBuilder(schema.ConnectionString) { Password = "wrong" }.ConnectionString;
        var error = Assert.ThrowsAny<NpgsqlException>(() => new PostgresResultBackend(login, Settings, Clock));
        Assert.False(PostgresResultBackend.IsConnectionLost(error));
    }

    [Theory]
    [InlineData("result", "{broken")]
    [InlineData("children", "[[")]
    [InlineData("args", "(1, 2)")]
    public async Task Get_BadStoredValue_ThrowsNamingTaskAndColumn(string column, string value)
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-bad", 1) with { Args = new JsonArray(1) });
        schema.Execute($"UPDATE celery_taskmeta SET {column} = @v WHERE task_id = 't-bad'", ("v", value));

        var error = await Assert.ThrowsAsync<ResultFormatException>(() => Backend.GetAsync("t-bad"));

        Assert.Equal("t-bad", error.TaskId);
        Assert.Equal(column, error.Field);
        Assert.Contains("'t-bad'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_IsCeleryTaskmetaWithATimestampDateDoneAndAnExpiryIndex()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-s", 1) with { DateDone = new DateTime(2026, 11, 21, 9, 0, 0, DateTimeKind.Utc) });

        Assert.Equal("celery_taskmeta_expires_at", schema.Scalar("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'celery_taskmeta' AND indexdef LIKE '%expires_at%'"));
        Assert.Equal("timestamp without time zone", schema.Scalar("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'celery_taskmeta' AND column_name = 'date_done'"));
        Assert.Equal("2026-11-21 09:00:00", schema.Scalar("SELECT to_char(date_done, 'YYYY-MM-DD HH24:MI:SS') FROM celery_taskmeta WHERE task_id = 't-s'"));
        Assert.Equal("1", schema.Scalar("SELECT result FROM celery_taskmeta WHERE task_id = 't-s'"));
    }

    [Fact]
    public void Open_OnATableMadeByCelerysDatabaseBackend_ThrowsSayingSo()
    {
        using var celery = new PostgresTestSchema();
        celery.Execute("CREATE TABLE celery_taskmeta (id serial PRIMARY KEY, task_id varchar(155) UNIQUE, status varchar(50), result bytea, date_done timestamp, traceback text)");

        var error = Assert.Throws<InvalidOperationException>(() => new PostgresResultBackend(celery.ConnectionString, Settings, Clock));

        Assert.Contains("celery_taskmeta", error.Message, StringComparison.Ordinal);
        Assert.Contains("precedence", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql")]
    [InlineData("postgres")]
    [InlineData("db+postgresql")]
    public async Task Open_Url_StoresInTheServerOfTheUrl(string scheme)
    {
        await using var backend = ResultBackends.Open(schema.Url(scheme), Settings, Clock);

        Assert.IsType<PostgresResultBackend>(backend);
        await backend.StoreAsync(TaskResult.Succeeded("t-url", 3));
        Assert.Equal(1L, schema.Scalar("SELECT COUNT(*) FROM celery_taskmeta WHERE task_id = 't-url'"));
    }

    // The waiter's first read and its LISTEN race; a NOTIFY before the LISTEN would be missed and leave only the poll.
    private async Task WaitUntilListeningAsync(string application)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(schema.AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FROM pg_stat_activity WHERE application_name = @app AND query = 'LISTEN {PostgresResultBackend.ReadyChannel}'", connection);
        command.Parameters.AddWithValue("app", application);
        using var limit = new CancellationTokenSource(Generous);
        while ((long)(await command.ExecuteScalarAsync(limit.Token))! == 0)
        {
            await Task.Delay(10, limit.Token);
        }
    }

    // A backend whose connections carry an application name of their own, so that a test can find them on the server;
    // disposed with the test's other backends.
    private (PostgresResultBackend Backend, string Application) OpenNamed(string prefix, ResultSettings? settings = null)
    {
        var application = $"{prefix}-{Guid.NewGuid():N}";
        var named = new NpgsqlConnectionStringBuilder(schema.ConnectionString) { ApplicationName = application }.ConnectionString;
        return ((PostgresResultBackend)Track(new PostgresResultBackend(named, settings ?? Settings, Clock)), application);
    }

    private int TerminateConnections(string application) =>
        Convert.ToInt32(schema.Scalar(
            """
            SELECT count(*) FROM (
                SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = @app
            ) AS terminated
            """,
            ("app", application)), System.Globalization.CultureInfo.InvariantCulture);
}
