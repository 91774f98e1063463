using BenchmarkDotNet.Attributes;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Bench.Transport;

/// <summary>Publish, consume and ack through <c>sqlite:///</c>, against raw INSERT, SELECT and DELETE statements on the same kind of table.</summary>
/// <remarks>Both sides commit each message on its own, as the transport does for each publish and each ack.</remarks>
[MemoryDiagnoser]
public class SqliteTransportBenchmarks
{
    private const int Messages = 200;
    private readonly Envelope message = new() { Body = "{\"task\":\"add\"}"u8.ToArray() };
    private readonly string directory = Directory.CreateTempSubdirectory("cq-bench-").FullName;
    private ITransport transport = null!;
    private IQueueConsumer consumer = null!;
    private SqliteConnection raw = null!;
    private SqliteCommand rawInsert = null!;
    private SqliteCommand rawSelect = null!;
    private SqliteCommand rawDelete = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = $"sqlite:///{Path.Combine(directory, "broker.db")}" });
        await transport.DeclareQueueAsync(new QueueDeclaration("bench"));
        consumer = await transport.ConsumeAsync("bench", new ConsumeOptions(Prefetch: 100));

        raw = new SqliteConnection($"Data Source={Path.Combine(directory, "raw.db")};Pooling=False");
        raw.Open();
        using (var schema = raw.CreateCommand())
        {
            schema.CommandText =
                """
                PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, priority INTEGER NOT NULL,
                    visible_at INTEGER NOT NULL, body BLOB NOT NULL, meta TEXT NOT NULL);
                CREATE INDEX messages_next ON messages (queue, priority DESC, id);
                """;
            schema.ExecuteNonQuery();
        }

        rawInsert = Prepare("INSERT INTO messages (queue, priority, visible_at, body, meta) VALUES ('bench', 0, 0, $body, '{}')", "$body");
        rawSelect = Prepare("SELECT id, body, meta FROM messages WHERE queue = 'bench' AND visible_at <= 1 ORDER BY priority DESC, id LIMIT 1");
        rawDelete = Prepare("DELETE FROM messages WHERE id = $id", "$id");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await consumer.DisposeAsync();
        await transport.DisposeAsync();
        rawInsert.Dispose();
        rawSelect.Dispose();
        rawDelete.Dispose();
        raw.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public void RawStatements()
    {
        rawInsert.Parameters["$body"].Value = message.Body.ToArray();
        for (var i = 0; i < Messages; i++)
        {
            rawInsert.ExecuteNonQuery();
        }

        for (var i = 0; i < Messages; i++)
        {
            long id;
            using (var reader = rawSelect.ExecuteReader())
            {
                reader.Read();
                id = reader.GetInt64(0);
                _ = reader.GetValue(1);
                _ = reader.GetString(2);
            }

            rawDelete.Parameters["$id"].Value = id;
            rawDelete.ExecuteNonQuery();
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task PublishConsumeAck()
    {
        for (var i = 0; i < Messages; i++)
        {
            await transport.PublishAsync("", "bench", message);
        }

        for (var i = 0; i < Messages; i++)
        {
            await consumer.AckAsync(await consumer.Deliveries.ReadAsync());
        }
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = raw.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
