using Microsoft.Data.Sqlite;

namespace ClusterQueue.Fabric.Revocation;

/// <summary>Revoked ids in a SQLite file, written through on each revoke so that a crash loses none.</summary>
/// <remarks>Revokes are rare next to tasks, so one small transaction each costs little and needs no flush on exit.</remarks>
public sealed class SqliteRevocationStore : IRevocationStore
{
    private static readonly Lazy<bool> NativeLibrary = new(() =>
    {
        SQLitePCL.Batteries_V2.Init();
        return true;
    });

    private readonly SqliteConnection connection;
    private readonly object gate = new();

    public SqliteRevocationStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _ = NativeLibrary.Value;
        Path = path;
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute("PRAGMA busy_timeout = 30000;");
            Execute("PRAGMA journal_mode = WAL;");
            Execute("CREATE TABLE IF NOT EXISTS revoked (task_id TEXT PRIMARY KEY, revoked_at REAL NOT NULL);");
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new IOException($"cannot open the state database '{path}': {e.Message}", e);
        }
    }

    public string Path { get; }

    public IReadOnlyList<(string Id, double RevokedAt)> Load()
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT task_id, revoked_at FROM revoked ORDER BY revoked_at, task_id;";
            using var reader = command.ExecuteReader();
            var entries = new List<(string, double)>();
            while (reader.Read()) entries.Add((reader.GetString(0), reader.GetDouble(1)));
            return entries;
        }
    }

    public void Save(IReadOnlyCollection<(string Id, double RevokedAt)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return;
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO revoked (task_id, revoked_at) VALUES ($id, $at) ON CONFLICT(task_id) DO UPDATE SET revoked_at = excluded.revoked_at;";
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var at = command.Parameters.Add("$at", SqliteType.Real);
            foreach (var (taskId, revokedAt) in entries)
            {
                id.Value = taskId;
                at.Value = revokedAt;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    public void Remove(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return;
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM revoked WHERE task_id = $id;";
            var id = command.Parameters.Add("$id", SqliteType.Text);
            foreach (var taskId in ids)
            {
                id.Value = taskId;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    public void Dispose() => connection.Dispose();

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
