using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace ClusterQueue.Results;

/// <summary>The <c>postgresql://</c> result backend: a <c>celery_taskmeta</c> table, with the columns of the SQLite one, on a pooled data source.</summary>
/// <remarks>
/// Every operation takes a connection from the pool for one statement and gives it back, so a backend may be used
/// from many threads at once. A connection that the server dropped (a restart, a failover, pg_terminate_backend)
/// is retried a few times on a fresh one. A ready state is announced with NOTIFY, which wakes the waiters of every
/// process at once; they also poll, as with SQLite, so a notification lost with a connection costs only a poll interval.
/// </remarks>
public sealed class PostgresResultBackend : IResultBackend
{
    private const string Columns = "task_id, status, result, traceback, children, date_done, name, args, kwargs, worker, retries, queue";

    // Taken around the CREATE statements: two processes starting at once both run CREATE TABLE IF NOT EXISTS, and
    // without the lock one of them can fail on the catalog's unique index (pg_type_typname_nsp_index) instead of seeing the table.
    private const long SchemaLockKey = 0x6371_7265_7375_6c74; // "cqresult"

    // Delays before the retries of an operation whose connection was lost: the first retry is at once, since most
    // often only idle connections in the pool were dropped; the later ones give a restarting server a few seconds.
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    private const string UpsertSql = $"""
        INSERT INTO celery_taskmeta ({Columns}, precedence, ready, expires_at)
        VALUES (@task_id, @status, @result, @traceback, @children, @date_done, @name, @args, @kwargs, @worker, @retries, @queue, @precedence, @ready, @expires_at)
        ON CONFLICT (task_id) DO UPDATE SET
            status = excluded.status, result = excluded.result, traceback = excluded.traceback,
            children = excluded.children, date_done = excluded.date_done, name = excluded.name,
            args = excluded.args, kwargs = excluded.kwargs, worker = excluded.worker,
            retries = excluded.retries, queue = excluded.queue, precedence = excluded.precedence,
            ready = excluded.ready, expires_at = excluded.expires_at
        WHERE NOT celery_taskmeta.ready
           OR (excluded.ready AND excluded.precedence >= celery_taskmeta.precedence)
           OR celery_taskmeta.expires_at <= @now
        """;

    private readonly NpgsqlDataSource dataSource;
    private readonly ResultWaiters waiters = new();
    private readonly TimeSpan expires;
    private readonly TimeSpan pollingInterval;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock listenerGate = new();
    private Task? listener;
    private int disposed;

    /// <summary>Connects with an Npgsql connection string and creates the table when it is missing.</summary>
    /// <exception cref="NpgsqlException">The server cannot be reached or refuses the login, after the retries.</exception>
    public PostgresResultBackend(string connectionString, ResultSettings? settings = null, TimeProvider? time = null)
        : this(new NpgsqlConnectionStringBuilder(connectionString ?? throw new ArgumentNullException(nameof(connectionString))), settings, time)
    {
    }

    internal PostgresResultBackend(NpgsqlConnectionStringBuilder connection, ResultSettings? settings = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        settings ??= new ResultSettings();
        settings.Validate();
        expires = settings.Expires;
        pollingInterval = settings.PollingInterval;
        this.time = time ?? TimeProvider.System;
        Host = connection.Host ?? "";
        Database = connection.Database ?? "";

        // The same few statements run all the time; prepared once per physical connection they skip the planner.
        if (connection.MaxAutoPrepare == 0)
        {
            connection.MaxAutoPrepare = 8;
        }

        dataSource = NpgsqlDataSource.Create(connection);
        try
        {
            RunAsync(CreateSchemaAsync, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch
        {
            dataSource.Dispose();
            throw;
        }
    }

    /// <summary>The server's host (or hosts), for messages.</summary>
    public string Host { get; }

    /// <summary>The database that holds the table.</summary>
    public string Database { get; }

    public async Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureStorable();
        var now = time.GetUtcNow();
        var dateDone = TaskResultJson.ToUtc(result.DateDone ?? now.UtcDateTime);
        var changed = await RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(UpsertSql, connection);
                var p = command.Parameters;
                p.Add(Text("task_id", result.TaskId));
                p.Add(Text("status", result.Status));
                p.Add(Text("result", TaskMetaRow.JsonText(result.Result)));
                p.Add(Text("traceback", result.Traceback));
                p.Add(Text("children", TaskMetaRow.JsonText(result.Children ?? new JsonArray())));
                // Celery's column is a timestamp without time zone holding UTC; Npgsql writes only an unspecified kind to it.
                p.Add(new NpgsqlParameter("date_done", NpgsqlDbType.Timestamp) { Value = DateTime.SpecifyKind(dateDone, DateTimeKind.Unspecified) });
                p.Add(Text("name", result.Name));
                p.Add(Text("args", result.Args is null ? null : TaskMetaRow.JsonText(result.Args)));
                p.Add(Text("kwargs", result.Kwargs is null ? null : TaskMetaRow.JsonText(result.Kwargs)));
                p.Add(Text("worker", result.Worker));
                p.Add(new NpgsqlParameter("retries", NpgsqlDbType.Integer) { Value = (object?)result.Retries ?? DBNull.Value });
                p.Add(Text("queue", result.Queue));
                p.Add(new NpgsqlParameter("precedence", NpgsqlDbType.Integer) { Value = TaskStates.Precedence(result.Status) });
                p.Add(new NpgsqlParameter("ready", NpgsqlDbType.Boolean) { Value = TaskStates.IsReady(result.Status) });
                p.Add(new NpgsqlParameter("expires_at", NpgsqlDbType.Bigint) { Value = (now + expires).ToUnixTimeMilliseconds() });
                p.Add(new NpgsqlParameter("now", NpgsqlDbType.Bigint) { Value = now.ToUnixTimeMilliseconds() });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

        if (changed > 0)
        {
            waiters.Notify(result.TaskId);
            if (TaskStates.IsReady(result.Status))
            {
                await NotifyReadyAsync(result.TaskId, cancellationToken).ConfigureAwait(false);
            }
        }

        return changed > 0;
    }

    public Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand($"SELECT {Columns} FROM celery_taskmeta WHERE task_id = @task_id AND expires_at > @now", connection);
                command.Parameters.Add(Text("task_id", taskId));
                command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.Bigint) { Value = now });
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadRow(reader, taskId) : null;
            },
            cancellationToken);
    }

    public Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        EnsureListening();
        return waiters.WaitAsync(taskId, ct => GetAsync(taskId, ct), timeout, pollingInterval, time, cancellationToken);
    }

    public async Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return await RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("DELETE FROM celery_taskmeta WHERE task_id = @task_id", connection);
                command.Parameters.Add(Text("task_id", taskId));
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("DELETE FROM celery_taskmeta WHERE expires_at <= @now", connection);
                command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.Bigint) { Value = now.ToUnixTimeMilliseconds() });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("groups on this backend are not written yet");

    public Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("groups on this backend are not written yet");

    public Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("groups on this backend are not written yet");

    public bool CountsChordParts => true;

    public Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("groups on this backend are not written yet");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        Task? running;
        lock (listenerGate)
        {
            running = listener;
        }

        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }

        await dataSource.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    /// <summary>The NOTIFY channel on which ready task ids are announced to the waiters of every process.</summary>
    internal const string ReadyChannel = "cq_result_ready";

    // A failed notification only delays the waiters of other processes until their next poll, so it does not fail a store that succeeded.
    private async Task NotifyReadyAsync(string taskId, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(
                async (connection, ct) =>
                {
                    await using var command = new NpgsqlCommand($"SELECT pg_notify('{ReadyChannel}', @task_id)", connection);
                    command.Parameters.Add(Text("task_id", taskId));
                    return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
        }
    }

    // Started by the first wait, so that a worker, which only stores, holds no connection for it.
    private void EnsureListening()
    {
        lock (listenerGate)
        {
            if (listener is null && !stopping.IsCancellationRequested)
            {
                listener = Task.Run(() => ListenAsync(stopping.Token));
            }
        }
    }

    // One connection outside the pool's turnover, kept for LISTEN; after a failure it reconnects a second later, and
    // the polling of the waiters covers the gap.
    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
                connection.Notification += (_, e) => waiters.Notify(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ReadyChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                while (true)
                {
                    await connection.WaitAsync(ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Whether a failure means the connection (or the server behind it) went away, so that the same statement may work on a new one.</summary>
    internal static bool IsConnectionLost(Exception e) => e is NpgsqlException { IsTransient: true };

    private static async Task<int> CreateSchemaAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(
            $"""
            SELECT pg_advisory_xact_lock({SchemaLockKey});
            CREATE TABLE IF NOT EXISTS celery_taskmeta (
                task_id    text PRIMARY KEY,
                status     text NOT NULL,
                result     text,
                traceback  text,
                children   text,
                date_done  timestamp,
                name       text,
                args       text,
                kwargs     text,
                worker     text,
                retries    integer,
                queue      text,
                precedence integer NOT NULL,
                ready      boolean NOT NULL,
                expires_at bigint NOT NULL
            );
            """);

        // Celery's own database backend makes a table of the same name with other columns (an id, pickled bytea); the
        // IF NOT EXISTS above leaves such a table alone, and every store would then fail on a missing column.
        await using (var check = new NpgsqlCommand(
            """
            SELECT count(*) FROM pg_attribute
            WHERE attrelid = to_regclass('celery_taskmeta') AND NOT attisdropped AND attname IN ('precedence', 'ready', 'expires_at')
            """,
            connection,
            transaction))
        {
            if (Convert.ToInt64(await check.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) != 3)
            {
                throw new InvalidOperationException(
                    $"The table celery_taskmeta in database '{connection.Database}' was not made by this result backend (it lacks the precedence, ready "
                    + "and expires_at columns; Celery's own database backend makes one of that name): use another database or schema (search_path).");
            }
        }

        await ExecuteAsync("CREATE INDEX IF NOT EXISTS celery_taskmeta_expires_at ON celery_taskmeta (expires_at);");
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return 0;

        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                return await operation(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < RetryDelays.Length && IsConnectionLost(e) && !cancellationToken.IsCancellationRequested)
            {
                // The other idle connections in the pool were most likely dropped with this one; without the clear,
                // each retry could pick up another dead one. The delay is wall-clock time, not the backend's clock,
                // which tests move by hand.
                dataSource.Clear();
                if (RetryDelays[attempt] > TimeSpan.Zero)
                {
                    await Task.Delay(RetryDelays[attempt], cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static NpgsqlParameter Text(string name, string? value) => new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static TaskResult ReadRow(NpgsqlDataReader reader, string taskId) =>
        TaskMetaRow.Read(reader, taskId, reader.IsDBNull(5) ? null : DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc));
}
