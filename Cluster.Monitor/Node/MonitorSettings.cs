namespace ClusterQueue.Monitor.Node;

/// <summary>The <c>cluster-queue.monitor</c> settings.</summary>
public sealed record MonitorSettings
{
    /// <summary>Most tasks kept in state; the least recently updated go first.</summary>
    public int MaxTasks { get; init; } = 10_000;

    /// <summary>Events kept for subscribers that resume with <c>Last-Event-ID</c>.</summary>
    public int EventBuffer { get; init; } = 10_000;

    /// <summary>Events a subscriber may fall behind before it is dropped.</summary>
    public int SubscriberQueue { get; init; } = 1_000;

    /// <summary>Address and port of the HTTP API and dashboard.</summary>
    public string Listen { get; init; } = "127.0.0.1:5555";

    /// <summary>Bearer token required by every endpoint but the health check; empty means loopback only.</summary>
    public string Token { get; init; } = "";

    /// <summary>SQLite file the state is saved in (Akka.Persistence.Sql snapshots); empty keeps it in memory only.</summary>
    public string StateDb { get; init; } = "cluster-queue-monitor.db";

    /// <summary>Npgsql connection string of a PostgreSQL database for the state, used instead of <see cref="StateDb"/> when set.</summary>
    public string StatePostgres { get; init; } = "";

    /// <summary>How often the state is saved when events arrived.</summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Tasks older than this, behind the newest one, are left out of the saved state.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Also read Celery's <c>celeryev</c> exchange on the broker, so Python workers show up (AMQP).</summary>
    public bool CeleryEvents { get; init; }

    public void Validate()
    {
        const string prefix = "cluster-queue.monitor.";
        if (MaxTasks < 1) throw new ArgumentOutOfRangeException(prefix + "max-tasks", MaxTasks, $"{prefix}max-tasks must be at least 1");
        if (EventBuffer < 1) throw new ArgumentOutOfRangeException(prefix + "event-buffer", EventBuffer, $"{prefix}event-buffer must be at least 1");
        if (SubscriberQueue < 1) throw new ArgumentOutOfRangeException(prefix + "subscriber-queue", SubscriberQueue, $"{prefix}subscriber-queue must be at least 1");
        if (SnapshotInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(prefix + "snapshot-interval", SnapshotInterval, $"{prefix}snapshot-interval must be positive");
        if (Retention <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(prefix + "retention", Retention, $"{prefix}retention must be positive");
        _ = ListenEndpoint();
    }

    /// <summary>The Akka.Persistence config that stores the state, or null when it stays in memory.</summary>
    public string? PersistenceConfig()
    {
        var (connection, provider) = StatePostgres.Length > 0
            ? (StatePostgres, "PostgreSQL.15")
            : StateDb.Length > 0 ? ($"Data Source={Path.GetFullPath(StateDb)}", "SQLite.MS") : (null, null);
        if (connection is null)
        {
            return null;
        }

        var quoted = System.Text.Json.JsonSerializer.Serialize(connection);
        return $$"""
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql { connection-string = {{quoted}}, provider-name = "{{provider}}" }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
            akka.persistence.snapshot-store.sql { connection-string = {{quoted}}, provider-name = "{{provider}}" }
            """;
    }

    /// <summary>The <see cref="Listen"/> address, checked.</summary>
    public System.Net.IPEndPoint ListenEndpoint() =>
        System.Net.IPEndPoint.TryParse(Listen, out var endpoint) && Listen.Contains(':', StringComparison.Ordinal)
            ? endpoint
            : throw new ArgumentException($"cluster-queue.monitor.listen must be ADDRESS:PORT such as 127.0.0.1:5555, got '{Listen}'", "cluster-queue.monitor.listen");
}
