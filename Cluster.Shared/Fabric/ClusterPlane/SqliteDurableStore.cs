using System.Collections.Immutable;
using Akka.Actor;
using Akka.DistributedData;
using Akka.DistributedData.Durable;
using Akka.Event;
using Akka.Serialization;
using Microsoft.Data.Sqlite;
using AkkaConfig = Akka.Configuration.Config;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// DistributedData's durable store on SQLite (<c>akka.cluster.distributed-data.durable.store-actor-class</c>): each
/// durable key's data, serialized by DistributedData's own serializer, in one row of table <c>ddata</c> of the node's
/// state db. A restarted node loads it before its replicator answers anything, so it keeps what it knew.
/// </summary>
/// <remarks>
/// Written through on every store, before the replicator acknowledges the update: revocations are rare, so one small
/// transaction each costs little. (Akka's LMDB store is not usable with the LightningDB version served here.)
/// </remarks>
public sealed class SqliteDurableStore : ReceiveActor
{
    private readonly SqliteConnection connection;
    private readonly SerializerWithStringManifest serializer;
    private readonly string manifest;

    public SqliteDurableStore(AkkaConfig config)
    {
        var path = config.GetString("sqlite.path");
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException("akka.cluster.distributed-data.durable.sqlite.path must name the state db file");
        }

        serializer = (SerializerWithStringManifest)Context.System.Serialization.FindSerializerForType(typeof(DurableDataEnvelope));
        manifest = serializer.Manifest(new DurableDataEnvelope(GCounter.Empty));
        try
        {
            connection = Open(path);
        }
        catch (IOException e)
        {
            throw new LoadFailedException(e.Message, e);
        }

        Receive<LoadAll>(_ => LoadAll());
        Receive<Store>(Save);
    }

    /// <summary>
    /// Opens the state db and makes its table. A node calls it before it starts, so a file that cannot be opened
    /// stops the start with an <see cref="IOException"/> naming it, instead of a replicator that never answers.
    /// </summary>
    public static SqliteConnection Open(string path)
    {
        SQLitePCL.Batteries_V2.Init();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            connection.Open();
            foreach (var sql in new[] { "PRAGMA busy_timeout = 30000;", "PRAGMA journal_mode = WAL;", "CREATE TABLE IF NOT EXISTS ddata (key TEXT PRIMARY KEY, data BLOB NOT NULL);" })
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }

            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new IOException($"cannot open the state db '{path}': {e.Message}", e);
        }
    }

    protected override void PostStop() => connection.Dispose();

    private void LoadAll()
    {
        var data = ImmutableDictionary.CreateBuilder<string, DurableDataEnvelope>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT key, data FROM ddata;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var key = reader.GetString(0);
                try
                {
                    data[key] = (DurableDataEnvelope)serializer.FromBinary((byte[])reader.GetValue(1), manifest);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One unreadable entry must not cost the others; gossip brings the key back from the peers.
                    Context.GetLogger().Warning("state db: dropped unreadable replicated data '{0}': {1}", key, e.Message);
                }
            }
        }

        if (data.Count > 0) Sender.Tell(new LoadData(data.ToImmutable()));
        Sender.Tell(LoadAllCompleted.Instance);
    }

    private void Save(Store store)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO ddata (key, data) VALUES ($key, $data) ON CONFLICT (key) DO UPDATE SET data = excluded.data;";
            command.Parameters.AddWithValue("$key", store.Key);
            command.Parameters.AddWithValue("$data", serializer.ToBinary(store.Data));
            command.ExecuteNonQuery();
            store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
        }
        catch (SqliteException e)
        {
            Context.GetLogger().Error(e, "state db: could not store replicated data '{0}'", store.Key);
            store.Reply?.ReplyTo.Tell(store.Reply.FailureMessage);
        }
    }
}
