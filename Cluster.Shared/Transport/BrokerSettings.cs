using ClusterQueue.Transport.Amqp;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Transport;

/// <summary>The <c>cluster-queue.broker</c> settings: which broker to use and how the embedded transports poll and lease.</summary>
public sealed record BrokerSettings
{
    /// <summary>Broker URL: <c>memory://</c>, <c>memory://name</c>, <c>sqlite:///path.db</c>, <c>amqp://user:pass@host:port/vhost</c>, <c>amqps://…</c> or <c>sqs://</c> (kebab-case key <c>url</c>).</summary>
    public string Url { get; init; } = "sqlite:///cluster-queue.db";

    /// <summary>How often a memory or SQLite consumer looks for messages published by other processes (<c>polling-interval</c>).</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a delivered, unacknowledged memory or SQLite message stays hidden before it is offered again (<c>visibility-timeout</c>).</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>AMQP heartbeat interval (<c>heartbeat</c>).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Whether a lost connection is retried (<c>connection-retry</c>).</summary>
    public bool ConnectionRetry { get; init; } = true;

    /// <summary>How many times a lost connection is retried (<c>connection-max-retries</c>).</summary>
    public int ConnectionMaxRetries { get; init; } = 100;

    /// <summary>How long opening a connection may take (<c>connection-timeout</c>).</summary>
    public TimeSpan ConnectionTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>RabbitMQ-only options (<c>amqp</c>).</summary>
    public AmqpSettings Amqp { get; init; } = new();

    /// <summary>Amazon SQS-only options (<c>sqs</c>).</summary>
    public SqsSettings Sqs { get; init; } = new();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the key of a value no transport can work with.</summary>
    public void Validate()
    {
        RequirePositive(PollingInterval, "polling-interval");
        RequirePositive(VisibilityTimeout, "visibility-timeout");
        Sqs.Validate();
    }

    private static void RequirePositive(TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.broker." + key, value, $"cluster-queue.broker.{key} must be a positive duration, got {value}");
        }
    }
}
