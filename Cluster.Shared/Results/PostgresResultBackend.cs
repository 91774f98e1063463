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

    public async Task<IReadOnlyList<TaskResult?>> GetResultsAsync(IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var found = await RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand($"SELECT {Columns} FROM celery_taskmeta WHERE task_id = ANY(@task_ids) AND expires_at > @now", connection);
                command.Parameters.Add(new NpgsqlParameter("task_ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = taskIds.ToArray() });
                command.Parameters.Add(Bigint("now", now));
                var rows = new Dictionary<string, TaskResult>(StringComparer.Ordinal);
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var id = reader.GetString(0);
                    rows[id] = ReadRow(reader, id);
                }

                return rows;
            },
            cancellationToken).ConfigureAwait(false);
        return [.. taskIds.Select(id => found.GetValueOrDefault(id))];
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
        InTransactionAsync(
            async (connection, transaction, ct) =>
            {
                var at = now.ToUnixTimeMilliseconds();
                var results = await ExecuteAsync(connection, transaction, "DELETE FROM celery_taskmeta WHERE expires_at <= @now", ct, Bigint("now", at)).ConfigureAwait(false);
                await ExecuteAsync(
                    connection,
                    transaction,
                    "DELETE FROM celery_chord_parts WHERE taskset_id IN (SELECT taskset_id FROM celery_tasksetmeta WHERE expires_at <= @now)",
                    ct,
                    Bigint("now", at)).ConfigureAwait(false);
                return results + await ExecuteAsync(connection, transaction, "DELETE FROM celery_tasksetmeta WHERE expires_at <= @now", ct, Bigint("now", at)).ConfigureAwait(false);
            },
            cancellationToken);

    public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberIds);
        var now = time.GetUtcNow();
        var result = GroupTuple.Serialize(groupId, memberIds);
        // Saving a group again starts its chord count afresh, so the parts counted under the old members go too.
        return InTransactionAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(
                    connection,
                    transaction,
                    """
                    INSERT INTO celery_tasksetmeta (taskset_id, result, date_done, size, done, fired_by, expires_at)
                    VALUES (@taskset_id, @result, @date_done, @size, 0, NULL, @expires_at)
                    ON CONFLICT (taskset_id) DO UPDATE SET
                        result = excluded.result, date_done = excluded.date_done, size = excluded.size,
                        done = 0, fired_by = NULL, expires_at = excluded.expires_at
                    """,
                    ct,
                    Text("taskset_id", groupId),
                    Text("result", result),
                    Timestamp("date_done", now.UtcDateTime),
                    new NpgsqlParameter("size", NpgsqlDbType.Integer) { Value = memberIds.Count },
                    Bigint("expires_at", (now + expires).ToUnixTimeMilliseconds())).ConfigureAwait(false);
                return await ExecuteAsync(connection, transaction, "DELETE FROM celery_chord_parts WHERE taskset_id = @taskset_id", ct, Text("taskset_id", groupId)).ConfigureAwait(false);
            },
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var text = await RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT result FROM celery_tasksetmeta WHERE taskset_id = @taskset_id AND expires_at > @now", connection);
                command.Parameters.Add(Text("taskset_id", groupId));
                command.Parameters.Add(Bigint("now", now));
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
            },
            cancellationToken).ConfigureAwait(false);
        return text is null ? null : GroupTuple.ParseMembers(text, groupId);
    }

    public async Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        return await InTransactionAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(connection, transaction, "DELETE FROM celery_chord_parts WHERE taskset_id = @taskset_id", ct, Text("taskset_id", groupId)).ConfigureAwait(false);
                return await ExecuteAsync(connection, transaction, "DELETE FROM celery_tasksetmeta WHERE taskset_id = @taskset_id", ct, Text("taskset_id", groupId)).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public bool CountsChordParts => true;

    public async Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberId);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // Names this call in the group row when it fires the chord. The same across RunAsync's retries, so that a retry
        // after a commit whose acknowledgement was lost with the connection still learns that this call fired.
        var call = Guid.NewGuid().ToString("N");
        var (live, fired) = await RunAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(ChordPartSql, connection);
                command.Parameters.Add(Text("taskset_id", groupId));
                command.Parameters.Add(Text("task_id", memberId));
                command.Parameters.Add(Text("call", call));
                command.Parameters.Add(Bigint("now", now));
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await reader.ReadAsync(ct).ConfigureAwait(false);
                return (reader.GetBoolean(0), !reader.IsDBNull(1) && reader.GetBoolean(1));
            },
            cancellationToken).ConfigureAwait(false);
        return live ? fired : throw MemoryResultBackend.ChordGroupMissing(groupId);
    }

    /// <summary>
    /// One statement, so one round trip and one commit per member. The primary key of celery_chord_parts makes a member
    /// that returns twice (a redelivered task) insert nothing, and then nothing is counted. Concurrent calls for one
    /// group queue on its row in the UPDATE, which PostgreSQL re-evaluates on the row the call before it committed, so
    /// <c>done</c> reaches <c>size</c> in exactly one call, and that call names itself in <c>fired_by</c>. A call that
    /// counted nothing still fires when <c>fired_by</c> already names it: its earlier attempt committed, and the reply
    /// was lost with the connection.
    /// </summary>
    private const string ChordPartSql = """
        WITH grp AS (
            SELECT taskset_id, fired_by FROM celery_tasksetmeta WHERE taskset_id = @taskset_id AND expires_at > @now),
        part AS (
            INSERT INTO celery_chord_parts (taskset_id, task_id) SELECT taskset_id, @task_id FROM grp
            ON CONFLICT DO NOTHING RETURNING taskset_id),
        bump AS (
            UPDATE celery_tasksetmeta t
            SET done = t.done + 1,
                fired_by = CASE WHEN t.fired_by IS NULL AND t.done + 1 >= t.size THEN @call ELSE t.fired_by END
            FROM part WHERE t.taskset_id = part.taskset_id
            RETURNING t.fired_by)
        SELECT EXISTS (SELECT 1 FROM grp), COALESCE((SELECT fired_by FROM bump), (SELECT fired_by FROM grp)) = @call
        """;

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
        await Execute(
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
            CREATE TABLE IF NOT EXISTS celery_tasksetmeta (
                taskset_id text PRIMARY KEY,
                result     text NOT NULL,
                date_done  timestamp,
                size       integer NOT NULL,
                done       integer NOT NULL DEFAULT 0,
                fired_by   text,
                expires_at bigint NOT NULL
            );
            CREATE TABLE IF NOT EXISTS celery_chord_parts (
                taskset_id text NOT NULL,
                task_id    text NOT NULL,
                PRIMARY KEY (taskset_id, task_id)
            );
            """);

        // Celery's own database backend makes tables of the same names with other columns (an id, pickled bytea); the
        // IF NOT EXISTS above leaves such a table alone, and every store would then fail on a missing column.
        await RequireOwnTableAsync("celery_taskmeta", "precedence", "ready", "expires_at");
        await RequireOwnTableAsync("celery_tasksetmeta", "size", "done", "fired_by", "expires_at");

        await Execute(
            """
            CREATE INDEX IF NOT EXISTS celery_taskmeta_expires_at ON celery_taskmeta (expires_at);
            CREATE INDEX IF NOT EXISTS celery_tasksetmeta_expires_at ON celery_tasksetmeta (expires_at);
            """);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return 0;

        Task<int> Execute(string sql) => ExecuteAsync(connection, transaction, sql, ct);

        async Task RequireOwnTableAsync(string table, params string[] columns)
        {
            await using var check = new NpgsqlCommand(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(@table) AND NOT attisdropped AND attname = ANY(@columns)",
                connection,
                transaction);
            check.Parameters.Add(Text("table", table));
            check.Parameters.Add(new NpgsqlParameter("columns", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = columns });
            if (Convert.ToInt64(await check.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) != columns.Length)
            {
                throw new InvalidOperationException(
                    $"The table {table} in database '{connection.Database}' was not made by this result backend (it lacks the {string.Join(", ", columns)} "
                    + "columns; Celery's own database backend makes one of that name): use another database or schema (search_path).");
            }
        }
    }

    private static async Task<int> ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // One transaction on one pooled connection, retried from the start as a whole when the connection is lost.
    private Task<int> InTransactionAsync(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<int>> operation, CancellationToken cancellationToken) =>
        RunAsync(
            async (connection, ct) =>
            {
                await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                var result = await operation(connection, transaction, ct).ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return result;
            },
            cancellationToken);

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

    private static NpgsqlParameter Bigint(string name, long value) => new(name, NpgsqlDbType.Bigint) { Value = value };

    // Celery's column is a timestamp without time zone holding UTC; Npgsql writes only an unspecified kind to it.
    private static NpgsqlParameter Timestamp(string name, DateTime utc) =>
        new(name, NpgsqlDbType.Timestamp) { Value = DateTime.SpecifyKind(TaskResultJson.ToUtc(utc), DateTimeKind.Unspecified) };

    private static TaskResult ReadRow(NpgsqlDataReader reader, string taskId) =>
        TaskMetaRow.Read(reader, taskId, reader.IsDBNull(5) ? null : DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc));
}
