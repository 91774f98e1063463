using System.Collections.Concurrent;
using ClusterQueue.Transport.Routing;
using ClusterQueue.Transport.Virtual;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Transport.Sqlite;

/// <summary>A broker in one SQLite file, shared safely by several processes on one host.</summary>
/// <remarks>
/// Delivery is at least once. A taken message stays in the file, leased to its consumer until a deadline that the consumer
/// keeps renewing; it is deleted only when acked. If the consumer's process dies, the lease runs out after the visibility
/// timeout and another consumer gets the message again, marked redelivered, so a message can be processed twice but is never lost.
/// The file runs in WAL mode with a busy timeout and short transactions; topology lives in tables, versioned, so every
/// process routes with the same exchanges and bindings. One connection per store, used by one operation at a time,
/// keeps its prepared statements for reuse.
/// </remarks>
internal sealed class SqliteMessageStore : IMessageStore
{
    private static readonly ConcurrentDictionary<string, QueueSignals> SignalsByFile = new(StringComparer.Ordinal);
    private static int initialized;

    private readonly string path;
    private readonly SqliteConnection connection;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly SqliteCommand readVersion;
    private readonly SqliteCommand insert;
    private readonly SqliteCommand take;
    private readonly SqliteCommand takeAndDelete;
    private readonly SqliteCommand renew;
    private readonly SqliteCommand deleteLeased;
    private readonly SqliteCommand release;
    private VirtualRoutingTable table = new();
    private long loadedVersion = -1;

    public SqliteMessageStore(string path)
    {
        if (Interlocked.Exchange(ref initialized, 1) == 0)
        {
            SQLitePCL.Batteries_V2.Init();
        }

        this.path = Path.GetFullPath(path);
        Signals = SignalsByFile.GetOrAdd(this.path, _ => new QueueSignals());
        connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = this.path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        try
        {
            connection.Open();
            SqliteBusyWait.Install(connection);
            SqliteSchema.Create(connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new TransportException($"sqlite broker '{this.path}': cannot open the file: {e.Message}", e);
        }

        readVersion = Command("SELECT value FROM cq_meta WHERE key = 'topology'");
        insert = Command(
            """
            INSERT INTO cq_messages (queue, priority, visible_at, expires_at, exchange, routing_key, body, meta)
            VALUES ($queue, $priority, $visible_at, $expires_at, $exchange, $routing_key, $body, $meta)
            """,
            "$queue", "$priority", "$visible_at", "$expires_at", "$exchange", "$routing_key", "$body", "$meta");
        const string Next =
            """
            id IN (SELECT id FROM cq_messages
                   WHERE queue = $queue AND visible_at <= $now AND (expires_at IS NULL OR expires_at > $now)
                   ORDER BY priority DESC, id LIMIT $max)
            """;
        const string Returned = "RETURNING id, priority, delivery_count, exchange, routing_key, body, meta";
        take = Command(
            $"UPDATE cq_messages SET leased_by = $consumer, visible_at = $until, delivery_count = delivery_count + 1 WHERE {Next} {Returned}",
            "$queue", "$now", "$max", "$consumer", "$until");
        takeAndDelete = Command($"DELETE FROM cq_messages WHERE {Next} {Returned}", "$queue", "$now", "$max");
        renew = Command("UPDATE cq_messages SET visible_at = $until WHERE id = $id AND leased_by = $consumer", "$id", "$consumer", "$until");
        deleteLeased = Command("DELETE FROM cq_messages WHERE id = $id AND leased_by = $consumer", "$id", "$consumer");
        release = Command("UPDATE cq_messages SET leased_by = NULL, visible_at = 0 WHERE id = $id AND leased_by = $consumer", "$id", "$consumer");
    }

    public QueueSignals Signals { get; }

    public ValueTask<VirtualRoutingTable> TopologyAsync(CancellationToken cancellationToken) =>
        RunAsync("read topology", cancellationToken, () =>
        {
            RefreshTopology();
            return table;
        });

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken) =>
        ChangeTopologyAsync("declare exchange", cancellationToken, () =>
        {
            table.DeclareExchange(exchange);
            Execute(
                "INSERT OR REPLACE INTO cq_exchanges (name, type, durable, auto_delete) VALUES ($1, $2, $3, $4)",
                exchange.Name, exchange.Type.ToString(), exchange.Durable, exchange.AutoDelete);
        });

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken) =>
        ChangeTopologyAsync("declare queue", cancellationToken, () =>
        {
            table.DeclareQueue(queue);
            Execute(
                "INSERT OR REPLACE INTO cq_queues (name, durable, auto_delete, exclusive, arguments) VALUES ($1, $2, $3, $4, $5)",
                queue.Name, queue.Durable, queue.AutoDelete, queue.Exclusive, FieldValueJson.WriteMap(queue.Arguments));
        });

    public ValueTask BindAsync(QueueBinding binding, CancellationToken cancellationToken) =>
        ChangeTopologyAsync("bind queue", cancellationToken, () =>
        {
            table.Bind(binding);
            Execute(
                "INSERT OR IGNORE INTO cq_bindings (queue, exchange, routing_key, arguments) VALUES ($1, $2, $3, $4)",
                binding.Queue, binding.Exchange, binding.RoutingKey, FieldValueJson.WriteMap(binding.Arguments));
        });

    public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken) =>
        ChangeTopologyAsync("delete queue", cancellationToken, () =>
        {
            table.DeleteQueue(queue);
            Execute("DELETE FROM cq_messages WHERE queue = $1", queue);
            Execute("DELETE FROM cq_bindings WHERE queue = $1", queue);
            Execute("DELETE FROM cq_queues WHERE name = $1", queue);
        });

    public ValueTask EnqueueAsync(IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken) =>
        InTransactionAsync("publish", cancellationToken, transaction =>
        {
            Insert(transaction, messages);
            return true;
        }).AsValueTaskVoid();

    public ValueTask<IReadOnlyList<StoredMessage>> TakeAsync(
        string queue, string consumerId, int max, long nowMs, long leaseUntilMs, bool remove, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<StoredMessage>>("take messages", cancellationToken, () =>
        {
            var command = remove ? takeAndDelete : take;
            command.Transaction = null;
            command.Parameters["$queue"].Value = queue;
            command.Parameters["$now"].Value = nowMs;
            command.Parameters["$max"].Value = max;
            if (!remove)
            {
                command.Parameters["$consumer"].Value = consumerId;
                command.Parameters["$until"].Value = leaseUntilMs;
            }

            var rows = new List<(long Id, int Priority, StoredMessage Message)>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var id = reader.GetInt64(0);
                    var deliveries = reader.GetInt64(2);
                    var envelope = FieldValueJson.ReadEnvelope(reader.GetString(6), (byte[])reader.GetValue(5));
                    var redelivered = remove ? deliveries > 0 : deliveries > 1;
                    rows.Add((id, reader.GetInt32(1), new StoredMessage(id, queue, envelope, reader.GetString(3), reader.GetString(4), redelivered)));
                }
            }

            // RETURNING gives rows in no particular order.
            rows.Sort((a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Id.CompareTo(b.Id));
            return rows.Select(r => r.Message).ToList();
        });

    public ValueTask RenewAsync(string consumerId, IReadOnlyCollection<long> ids, long leaseUntilMs, CancellationToken cancellationToken) =>
        InTransactionAsync("renew leases", cancellationToken, transaction =>
        {
            renew.Transaction = transaction;
            renew.Parameters["$consumer"].Value = consumerId;
            renew.Parameters["$until"].Value = leaseUntilMs;
            foreach (var id in ids)
            {
                renew.Parameters["$id"].Value = id;
                renew.ExecuteNonQuery();
            }

            return true;
        }).AsValueTaskVoid();

    public ValueTask<bool> SettleAsync(long id, string consumerId, IReadOnlyList<NewMessage> replacements, CancellationToken cancellationToken)
    {
        if (replacements.Count == 0)
        {
            // An ack is one statement; SQLite makes it atomic without an explicit transaction.
            return RunAsync("ack", cancellationToken, () => DeleteLeased(null, id, consumerId));
        }

        return InTransactionAsync("dead-letter", cancellationToken, transaction =>
        {
            var deleted = DeleteLeased(transaction, id, consumerId);
            if (deleted)
            {
                Insert(transaction, replacements);
            }

            return deleted;
        });
    }

    public ValueTask ReleaseAsync(IReadOnlyCollection<long> ids, string consumerId, CancellationToken cancellationToken) =>
        InTransactionAsync("requeue", cancellationToken, transaction =>
        {
            release.Transaction = transaction;
            release.Parameters["$consumer"].Value = consumerId;
            foreach (var id in ids)
            {
                release.Parameters["$id"].Value = id;
                release.ExecuteNonQuery();
            }

            return true;
        }).AsValueTaskVoid();

    public ValueTask<long> PurgeAsync(string queue, long nowMs, CancellationToken cancellationToken) =>
        RunAsync<long>("purge", cancellationToken, () =>
            Execute("DELETE FROM cq_messages WHERE queue = $1 AND (leased_by IS NULL OR visible_at <= $2)", queue, nowMs));

    public ValueTask<int> ExpireAsync(long nowMs, Func<StoredMessage, IReadOnlyList<NewMessage>> deadLetter, CancellationToken cancellationToken) =>
        InTransactionAsync("expire messages", cancellationToken, transaction =>
        {
            var expired = new List<StoredMessage>();
            using (var select = connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText =
                    """
                    SELECT id, queue, exchange, routing_key, body, meta, delivery_count FROM cq_messages
                    WHERE expires_at <= $now AND (leased_by IS NULL OR visible_at <= $now) LIMIT 256
                    """;
                select.Parameters.AddWithValue("$now", nowMs);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    var envelope = FieldValueJson.ReadEnvelope(reader.GetString(5), (byte[])reader.GetValue(4));
                    expired.Add(new StoredMessage(
                        reader.GetInt64(0), reader.GetString(1), envelope, reader.GetString(2), reader.GetString(3), reader.GetInt64(6) > 0));
                }
            }

            foreach (var message in expired)
            {
                Execute(transaction, "DELETE FROM cq_messages WHERE id = $1", message.Id);
                Insert(transaction, deadLetter(message));
            }

            return expired.Count;
        });

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var command in new[] { readVersion, insert, take, takeAndDelete, renew, deleteLeased, release })
            {
                command.Dispose();
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private bool DeleteLeased(SqliteTransaction? transaction, long id, string consumerId)
    {
        deleteLeased.Transaction = transaction;
        deleteLeased.Parameters["$id"].Value = id;
        deleteLeased.Parameters["$consumer"].Value = consumerId;
        return deleteLeased.ExecuteNonQuery() == 1;
    }

    private void Insert(SqliteTransaction transaction, IReadOnlyList<NewMessage> messages)
    {
        insert.Transaction = transaction;
        foreach (var message in messages)
        {
            insert.Parameters["$queue"].Value = message.Queue;
            insert.Parameters["$priority"].Value = (int)message.Priority;
            insert.Parameters["$visible_at"].Value = message.VisibleAtMs;
            insert.Parameters["$expires_at"].Value = message.ExpiresAtMs is { } expiresAt ? expiresAt : DBNull.Value;
            insert.Parameters["$exchange"].Value = message.Exchange;
            insert.Parameters["$routing_key"].Value = message.RoutingKey;
            insert.Parameters["$body"].Value = message.Message.Body.ToArray();
            insert.Parameters["$meta"].Value = FieldValueJson.WriteMeta(message.Message);
            insert.ExecuteNonQuery();
        }
    }

    private void RefreshTopology(SqliteTransaction? transaction = null)
    {
        readVersion.Transaction = transaction;
        var version = (long)readVersion.ExecuteScalar()!;
        if (version != loadedVersion)
        {
            table = SqliteSchema.LoadTopology(connection, transaction);
            loadedVersion = version;
        }
    }

    private ValueTask ChangeTopologyAsync(string operation, CancellationToken cancellationToken, Action change) =>
        InTransactionAsync(operation, cancellationToken, transaction =>
        {
            RefreshTopology(transaction);
            try
            {
                change();
            }
            catch (TransportException)
            {
                // The cached table may hold half of a refused change; the next read reloads it from the file.
                loadedVersion = -1;
                throw;
            }

            Execute(transaction, "UPDATE cq_meta SET value = value + 1 WHERE key = 'topology'");
            loadedVersion++;
            return true;
        }).AsValueTaskVoid();

    private long Execute(string sql, params object?[] arguments) => Execute(null, sql, arguments);

    private long Execute(SqliteTransaction? transaction, string sql, params object?[] arguments)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction ?? currentTransaction;
        command.CommandText = sql;
        for (var i = 0; i < arguments.Length; i++)
        {
            command.Parameters.AddWithValue($"${i + 1}", arguments[i] ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }

    private SqliteTransaction? currentTransaction;

    private ValueTask<T> InTransactionAsync<T>(string operation, CancellationToken cancellationToken, Func<SqliteTransaction, T> work) =>
        RunAsync(operation, cancellationToken, () =>
        {
            // BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read.
            using var transaction = connection.BeginTransaction(deferred: false);
            currentTransaction = transaction;
            try
            {
                var result = work(transaction);
                transaction.Commit();
                return result;
            }
            finally
            {
                currentTransaction = null;
            }
        });

    private async ValueTask<T> RunAsync<T>(string operation, CancellationToken cancellationToken, Func<T> work)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return work();
        }
        catch (SqliteException e)
        {
            throw new TransportException($"sqlite broker '{path}': {operation} failed: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new TransportException($"sqlite broker '{path}': {operation} failed: {e.Message}", e);
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>Turns a result-returning store operation into a plain one.</summary>
internal static class ValueTaskExtensions
{
    public static async ValueTask AsValueTaskVoid<T>(this ValueTask<T> task) => await task.ConfigureAwait(false);
}
