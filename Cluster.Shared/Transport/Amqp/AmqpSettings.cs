namespace ClusterQueue.Transport.Amqp;

/// <summary>The <c>cluster-queue.broker.amqp</c> settings: RabbitMQ-only options of declared queues, publishing and TLS.</summary>
public sealed record AmqpSettings
{
    /// <summary>Declare durable queues as quorum queues (<c>x-queue-type = quorum</c>).</summary>
    public bool QuorumQueues { get; init; }

    /// <summary><c>x-max-priority</c> given to declared durable queues that set none; 0 means no priorities.</summary>
    public int MaxPriority { get; init; }

    /// <summary>
    /// Exchange that receives messages rejected with a reason from a queue that has no dead-letter exchange of its own;
    /// empty means such messages are dropped, as RabbitMQ drops them.
    /// </summary>
    public string DeadLetterExchange { get; init; } = "cluster-queue.dead-letter";

    /// <summary>Wait for the broker's confirmation of each publish (publisher confirms).</summary>
    public bool ConfirmPublish { get; init; }

    /// <summary>TLS for <c>amqps://</c> URLs.</summary>
    public AmqpTlsSettings Tls { get; init; } = new();
}

/// <summary>The <c>cluster-queue.broker.amqp.tls</c> settings: the CA and client certificate of a TLS connection.</summary>
public sealed record AmqpTlsSettings
{
    /// <summary>Use TLS even for an <c>amqp://</c> URL.</summary>
    public bool Enabled { get; init; }

    /// <summary>PEM file of the certificate authority that signed the server's certificate; empty means the system store.</summary>
    public string CaFile { get; init; } = "";

    /// <summary>PEM client certificate for mutual TLS; empty means none.</summary>
    public string CertFile { get; init; } = "";

    /// <summary>PEM private key of the client certificate.</summary>
    public string KeyFile { get; init; } = "";
}
