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

    /// <summary>Also read Celery's <c>celeryev</c> exchange on the broker, so Python workers show up (AMQP).</summary>
    public bool CeleryEvents { get; init; }

    public void Validate()
    {
        const string prefix = "cluster-queue.monitor.";
        if (MaxTasks < 1) throw new ArgumentOutOfRangeException(prefix + "max-tasks", MaxTasks, $"{prefix}max-tasks must be at least 1");
        if (EventBuffer < 1) throw new ArgumentOutOfRangeException(prefix + "event-buffer", EventBuffer, $"{prefix}event-buffer must be at least 1");
        if (SubscriberQueue < 1) throw new ArgumentOutOfRangeException(prefix + "subscriber-queue", SubscriberQueue, $"{prefix}subscriber-queue must be at least 1");
        _ = ListenEndpoint();
    }

    /// <summary>The <see cref="Listen"/> address, checked.</summary>
    public System.Net.IPEndPoint ListenEndpoint() =>
        System.Net.IPEndPoint.TryParse(Listen, out var endpoint) && Listen.Contains(':', StringComparison.Ordinal)
            ? endpoint
            : throw new ArgumentException($"cluster-queue.monitor.listen must be ADDRESS:PORT such as 127.0.0.1:5555, got '{Listen}'", "cluster-queue.monitor.listen");
}
