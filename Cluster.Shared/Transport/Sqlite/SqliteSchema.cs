using ClusterQueue.Transport.Routing;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Transport.Sqlite;

/// <summary>The tables of the SQLite broker file and the loading of its topology.</summary>
internal static class SqliteSchema
{
    public static void Create(SqliteConnection connection)
    {
        // WAL lets readers and one writer work at once across processes; NORMAL sync is durable against
        // a process crash, which is the failure this broker promises to survive.
        Run(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        using var transaction = connection.BeginTransaction(deferred: false);
        Run(connection,
            """
            CREATE TABLE IF NOT EXISTS cq_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO cq_meta (key, value) VALUES ('topology', 0);
            CREATE TABLE IF NOT EXISTS cq_exchanges (
                name TEXT PRIMARY KEY, type TEXT NOT NULL, durable INTEGER NOT NULL, auto_delete INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS cq_queues (
                name TEXT PRIMARY KEY, durable INTEGER NOT NULL, auto_delete INTEGER NOT NULL, exclusive INTEGER NOT NULL,
                arguments TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS cq_bindings (
                queue TEXT NOT NULL, exchange TEXT NOT NULL, routing_key TEXT NOT NULL, arguments TEXT NOT NULL,
                PRIMARY KEY (queue, exchange, routing_key, arguments));
            CREATE TABLE IF NOT EXISTS cq_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                queue TEXT NOT NULL,
                priority INTEGER NOT NULL,
                visible_at INTEGER NOT NULL,
                expires_at INTEGER,
                delivery_count INTEGER NOT NULL DEFAULT 0,
                leased_by TEXT,
                exchange TEXT NOT NULL,
                routing_key TEXT NOT NULL,
                body BLOB NOT NULL,
                meta TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS cq_messages_next ON cq_messages (queue, priority DESC, id);
            CREATE INDEX IF NOT EXISTS cq_messages_expiry ON cq_messages (expires_at) WHERE expires_at IS NOT NULL;
            """,
            transaction);
        transaction.Commit();
    }

    public static VirtualRoutingTable LoadTopology(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var table = new VirtualRoutingTable();
        foreach (var row in Rows(connection, transaction, "SELECT name, type, durable, auto_delete FROM cq_exchanges"))
        {
            table.DeclareExchange(new ExchangeDeclaration(
                row.GetString(0), Enum.Parse<ExchangeType>(row.GetString(1)), row.GetBoolean(2), row.GetBoolean(3)));
        }

        foreach (var row in Rows(connection, transaction, "SELECT name, durable, auto_delete, exclusive, arguments FROM cq_queues"))
        {
            table.DeclareQueue(new QueueDeclaration(
                row.GetString(0), row.GetBoolean(1), row.GetBoolean(2), row.GetBoolean(3), FieldValueJson.ReadMap(row.GetString(4))));
        }

        foreach (var row in Rows(connection, transaction, "SELECT queue, exchange, routing_key, arguments FROM cq_bindings ORDER BY rowid"))
        {
            var arguments = FieldValueJson.ReadMap(row.GetString(3));
            table.Bind(new QueueBinding(row.GetString(0), row.GetString(1), row.GetString(2), arguments.Count == 0 ? null : arguments));
        }

        return table;
    }

    private static IEnumerable<SqliteDataReader> Rows(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return reader;
        }
    }

    private static void Run(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
