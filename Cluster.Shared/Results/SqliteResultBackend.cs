using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Results;

/// <summary>The <c>sqlite:///</c> result backend: a <c>celery_taskmeta</c> table that several processes can share.</summary>
/// <remarks>
/// WAL lets readers run while one process writes, and the busy timeout makes a writer wait for the
/// file lock instead of failing. Waiters in another process see a result by polling.
/// </remarks>
public sealed class SqliteResultBackend : IResultBackend
{
    private const string Columns = "task_id, status, result, traceback, children, date_done, name, args, kwargs, worker, retries, queue";

    private static readonly Lazy<bool> NativeLibrary = new(() =>
    {
        SQLitePCL.Batteries_V2.Init();
        return true;
    });

    private readonly SqliteConnection connection;
    // One connection per backend; its commands are prepared once and must not run concurrently.
    private readonly SemaphoreSlim connectionLock = new(1, 1);
    private readonly SqliteCommand upsert;
    private readonly SqliteCommand select;
    private readonly SqliteCommand delete;
    private readonly SqliteCommand sweep;
    private readonly SqliteCommand saveGroup;
    private readonly SqliteCommand clearParts;
    private readonly SqliteCommand restoreGroup;
    private readonly SqliteCommand forgetGroup;
    private readonly SqliteCommand liveGroup;
    private readonly SqliteCommand addPart;
    private readonly SqliteCommand countPart;
    private readonly SqliteCommand fireGroup;
    private readonly SqliteCommand sweepParts;
    private readonly SqliteCommand sweepGroups;
    private readonly ResultWaiters waiters = new();
    private readonly TimeSpan expires;
    private readonly TimeSpan pollingInterval;
    private readonly TimeProvider time;

    public SqliteResultBackend(string path, ResultSettings? settings = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        settings ??= new ResultSettings();
        settings.Validate();
        _ = NativeLibrary.Value;
        Path = path;
        expires = settings.Expires;
        pollingInterval = settings.PollingInterval;
        this.time = time ?? TimeProvider.System;

        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        connection = new SqliteConnection(builder.ToString());
        connection.Open();
        Execute("PRAGMA busy_timeout = 30000;");
        Execute("PRAGMA journal_mode = WAL;");
        Execute("PRAGMA synchronous = NORMAL;");
        Execute($"""
            CREATE TABLE IF NOT EXISTS celery_taskmeta (
                task_id    TEXT PRIMARY KEY,
                status     TEXT NOT NULL,
                result     TEXT,
                traceback  TEXT,
                children   TEXT,
                date_done  TEXT,
                name       TEXT,
                args       TEXT,
                kwargs     TEXT,
                worker     TEXT,
                retries    INTEGER,
                queue      TEXT,
                precedence INTEGER NOT NULL,
                ready      INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS celery_taskmeta_expires_at ON celery_taskmeta (expires_at);
            CREATE TABLE IF NOT EXISTS celery_tasksetmeta (
                taskset_id TEXT PRIMARY KEY,
                result     TEXT NOT NULL,
                date_done  TEXT,
                size       INTEGER NOT NULL,
                done       INTEGER NOT NULL DEFAULT 0,
                fired      INTEGER NOT NULL DEFAULT 0,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS celery_tasksetmeta_expires_at ON celery_tasksetmeta (expires_at);
            CREATE TABLE IF NOT EXISTS celery_chord_parts (
                taskset_id TEXT NOT NULL,
                task_id    TEXT NOT NULL,
                PRIMARY KEY (taskset_id, task_id)
            ) WITHOUT ROWID;
            """);

        // The WHERE clause is ResultPrecedence.Accepts in SQL, so the check and the write are one atomic
        // statement even when several processes write the same task. An expired row counts as absent.
        upsert = Prepare($"""
            INSERT INTO celery_taskmeta ({Columns}, precedence, ready, expires_at)
            VALUES ($task_id, $status, $result, $traceback, $children, $date_done, $name, $args, $kwargs, $worker, $retries, $queue, $precedence, $ready, $expires_at)
            ON CONFLICT (task_id) DO UPDATE SET
                status = excluded.status, result = excluded.result, traceback = excluded.traceback,
                children = excluded.children, date_done = excluded.date_done, name = excluded.name,
                args = excluded.args, kwargs = excluded.kwargs, worker = excluded.worker,
                retries = excluded.retries, queue = excluded.queue, precedence = excluded.precedence,
                ready = excluded.ready, expires_at = excluded.expires_at
            WHERE celery_taskmeta.ready = 0
               OR (excluded.ready = 1 AND excluded.precedence >= celery_taskmeta.precedence)
               OR celery_taskmeta.expires_at <= $now
            """,
            "$task_id", "$status", "$result", "$traceback", "$children", "$date_done", "$name", "$args", "$kwargs",
            "$worker", "$retries", "$queue", "$precedence", "$ready", "$expires_at", "$now");
        select = Prepare($"SELECT {Columns} FROM celery_taskmeta WHERE task_id = $task_id AND expires_at > $now", "$task_id", "$now");
        delete = Prepare("DELETE FROM celery_taskmeta WHERE task_id = $task_id", "$task_id");
        sweep = Prepare("DELETE FROM celery_taskmeta WHERE expires_at <= $now", "$now");

        // Saving a group again starts its chord count afresh, so the parts counted under the old members go too.
        saveGroup = Prepare("""
            INSERT INTO celery_tasksetmeta (taskset_id, result, date_done, size, done, fired, expires_at)
            VALUES ($taskset_id, $result, $date_done, $size, 0, 0, $expires_at)
            ON CONFLICT (taskset_id) DO UPDATE SET
                result = excluded.result, date_done = excluded.date_done, size = excluded.size,
                done = 0, fired = 0, expires_at = excluded.expires_at
            """,
            "$taskset_id", "$result", "$date_done", "$size", "$expires_at");
        clearParts = Prepare("DELETE FROM celery_chord_parts WHERE taskset_id = $taskset_id", "$taskset_id");
        restoreGroup = Prepare("SELECT result FROM celery_tasksetmeta WHERE taskset_id = $taskset_id AND expires_at > $now", "$taskset_id", "$now");
        forgetGroup = Prepare("DELETE FROM celery_tasksetmeta WHERE taskset_id = $taskset_id", "$taskset_id");
        liveGroup = Prepare("SELECT 1 FROM celery_tasksetmeta WHERE taskset_id = $taskset_id AND expires_at > $now", "$taskset_id", "$now");
        // The primary key makes a member that returns twice (a redelivered task) insert nothing the second time.
        addPart = Prepare("INSERT INTO celery_chord_parts (taskset_id, task_id) VALUES ($taskset_id, $task_id) ON CONFLICT DO NOTHING", "$taskset_id", "$task_id");
        countPart = Prepare("UPDATE celery_tasksetmeta SET done = done + 1 WHERE taskset_id = $taskset_id", "$taskset_id");
        // Only the call whose update turns fired from 0 to 1 applies the body.
        fireGroup = Prepare("UPDATE celery_tasksetmeta SET fired = 1 WHERE taskset_id = $taskset_id AND fired = 0 AND done >= size", "$taskset_id");
        sweepParts = Prepare("DELETE FROM celery_chord_parts WHERE taskset_id IN (SELECT taskset_id FROM celery_tasksetmeta WHERE expires_at <= $now)", "$now");
        sweepGroups = Prepare("DELETE FROM celery_tasksetmeta WHERE expires_at <= $now", "$now");
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public async Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureStorable();
        var now = time.GetUtcNow();
        var dateDone = result.DateDone ?? now.UtcDateTime;
        int changed;
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = upsert.Parameters;
            p["$task_id"].Value = result.TaskId;
            p["$status"].Value = result.Status;
            p["$result"].Value = TaskMetaRow.JsonText(result.Result);
            p["$traceback"].Value = (object?)result.Traceback ?? DBNull.Value;
            p["$children"].Value = TaskMetaRow.JsonText(result.Children ?? new JsonArray());
            p["$date_done"].Value = TaskResultJson.FormatDateDone(dateDone);
            p["$name"].Value = (object?)result.Name ?? DBNull.Value;
            p["$args"].Value = result.Args is null ? DBNull.Value : TaskMetaRow.JsonText(result.Args);
            p["$kwargs"].Value = result.Kwargs is null ? DBNull.Value : TaskMetaRow.JsonText(result.Kwargs);
            p["$worker"].Value = (object?)result.Worker ?? DBNull.Value;
            p["$retries"].Value = (object?)result.Retries ?? DBNull.Value;
            p["$queue"].Value = (object?)result.Queue ?? DBNull.Value;
            p["$precedence"].Value = TaskStates.Precedence(result.Status);
            p["$ready"].Value = TaskStates.IsReady(result.Status) ? 1 : 0;
            p["$expires_at"].Value = (now + expires).ToUnixTimeMilliseconds();
            p["$now"].Value = now.ToUnixTimeMilliseconds();
            changed = await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            connectionLock.Release();
        }

        if (changed > 0)
        {
            waiters.Notify(result.TaskId);
        }

        return changed > 0;
    }

    public async Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            select.Parameters["$task_id"].Value = taskId;
            select.Parameters["$now"].Value = time.GetUtcNow().ToUnixTimeMilliseconds();
            using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRow(reader, taskId) : null;
        }
        finally
        {
            connectionLock.Release();
        }
    }

    public async Task<IReadOnlyList<TaskResult?>> GetResultsAsync(IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var rows = new Dictionary<string, TaskResult>(StringComparer.Ordinal);
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The ids travel as one JSON array, so a chord of any size is one statement with two parameters.
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM celery_taskmeta WHERE task_id IN (SELECT value FROM json_each($task_ids)) AND expires_at > $now";
            command.Parameters.AddWithValue("$task_ids", JsonSerializer.Serialize(taskIds));
            command.Parameters.AddWithValue("$now", time.GetUtcNow().ToUnixTimeMilliseconds());
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetString(0);
                rows[id] = ReadRow(reader, id);
            }
        }
        finally
        {
            connectionLock.Release();
        }

        return [.. taskIds.Select(id => rows.GetValueOrDefault(id))];
    }

    public Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default) =>
        waiters.WaitAsync(taskId, ct => GetAsync(taskId, ct), timeout, pollingInterval, time, cancellationToken);

    public async Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            delete.Parameters["$task_id"].Value = taskId;
            return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
        finally
        {
            connectionLock.Release();
        }
    }

    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        InTransactionAsync(
            async ct =>
            {
                var at = now.ToUnixTimeMilliseconds();
                sweep.Parameters["$now"].Value = at;
                sweepParts.Parameters["$now"].Value = at;
                sweepGroups.Parameters["$now"].Value = at;
                var results = await sweep.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await sweepParts.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return results + await sweepGroups.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    public Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberIds);
        var now = time.GetUtcNow();
        return InTransactionAsync(
            async ct =>
            {
                var p = saveGroup.Parameters;
                p["$taskset_id"].Value = groupId;
                p["$result"].Value = GroupTuple.Serialize(groupId, memberIds);
                p["$date_done"].Value = TaskResultJson.FormatDateDone(now.UtcDateTime);
                p["$size"].Value = memberIds.Count;
                p["$expires_at"].Value = (now + expires).ToUnixTimeMilliseconds();
                clearParts.Parameters["$taskset_id"].Value = groupId;
                await saveGroup.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return await clearParts.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            restoreGroup.Parameters["$taskset_id"].Value = groupId;
            restoreGroup.Parameters["$now"].Value = time.GetUtcNow().ToUnixTimeMilliseconds();
            return await restoreGroup.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string text
                ? GroupTuple.ParseMembers(text, groupId)
                : null;
        }
        finally
        {
            connectionLock.Release();
        }
    }

    public async Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        return await InTransactionAsync(
            async ct =>
            {
                clearParts.Parameters["$taskset_id"].Value = groupId;
                forgetGroup.Parameters["$taskset_id"].Value = groupId;
                await clearParts.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return await forgetGroup.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public bool CountsChordParts => true;

    public async Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberId);
        // BEGIN IMMEDIATE takes the file's write lock first, so the check, the count and the claim of the other
        // processes' calls come before or after this one, never between. The expiry is judged once the lock is held,
        // which may be a while after the call.
        return await InTransactionAsync(
            async ct =>
            {
                liveGroup.Parameters["$taskset_id"].Value = groupId;
                liveGroup.Parameters["$now"].Value = time.GetUtcNow().ToUnixTimeMilliseconds();
                if (await liveGroup.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                {
                    throw MemoryResultBackend.ChordGroupMissing(groupId);
                }

                addPart.Parameters["$taskset_id"].Value = groupId;
                addPart.Parameters["$task_id"].Value = memberId;
                if (await addPart.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                {
                    return 0;
                }

                countPart.Parameters["$taskset_id"].Value = groupId;
                fireGroup.Parameters["$taskset_id"].Value = groupId;
                await countPart.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return await fireGroup.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask DisposeAsync()
    {
        await connectionLock.WaitAsync().ConfigureAwait(false);
        try
        {
            upsert.Dispose();
            select.Dispose();
            delete.Dispose();
            sweep.Dispose();
            foreach (var command in GroupCommands)
            {
                command.Dispose();
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            connectionLock.Release();
        }
    }

    private static TaskResult ReadRow(SqliteDataReader reader, string taskId) =>
        TaskMetaRow.Read(reader, taskId, TaskResultJson.ParseDateDone(reader.IsDBNull(5) ? null : reader.GetString(5), taskId));

    private SqliteCommand[] GroupCommands =>
        [saveGroup, clearParts, restoreGroup, forgetGroup, liveGroup, addPart, countPart, fireGroup, sweepParts, sweepGroups];

    // Runs the statements of one operation as a single IMMEDIATE transaction (Microsoft.Data.Sqlite's default), behind
    // the connection lock; an exception rolls it back.
    private async Task<int> InTransactionAsync(Func<CancellationToken, Task<int>> operation, CancellationToken cancellationToken)
    {
        await connectionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            SetTransaction(transaction);
            try
            {
                var result = await operation(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            finally
            {
                SetTransaction(null);
            }
        }
        finally
        {
            connectionLock.Release();
        }
    }

    // Microsoft.Data.Sqlite refuses a command without the pending transaction while one is open.
    private void SetTransaction(SqliteTransaction? transaction)
    {
        sweep.Transaction = transaction;
        foreach (var command in GroupCommands)
        {
            command.Transaction = transaction;
        }
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
        }

        command.Prepare();
        return command;
    }
}
