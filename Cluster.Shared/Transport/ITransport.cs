using System.Threading.Channels;
using ClusterQueue.Protocol;

namespace ClusterQueue.Transport;

/// <summary>A broker connection on the kombu model: declare, publish, consume with prefetch, ack or reject, purge.</summary>
/// <remarks>
/// Publishing to the default exchange <c>""</c> routes to the queue named by the routing key, as AMQP does.
/// A transport whose connection is lost completes every open consumer's <see cref="IQueueConsumer.Deliveries"/>
/// with a <see cref="TransportException"/>, so that the consumer's supervisor can restart it.
/// </remarks>
public interface ITransport : IAsyncDisposable
{
    ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default);

    ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default);

    ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default);

    ValueTask PublishAsync(
        string exchange,
        string routingKey,
        Envelope message,
        PublishOptions? options = null,
        CancellationToken cancellationToken = default);

    ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default);

    /// <summary>Removes every ready message of a queue and returns how many there were.</summary>
    ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default);

    ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether fanout and topic exchanges reach queues that other processes declared. False on SQS, where each process
    /// routes on its own: broadcast there (remote control, events, mingle) travels on the cluster only.
    /// </summary>
    bool Broadcasts => true;
}

/// <summary>Per-publish options beyond the envelope.</summary>
public sealed record PublishOptions
{
    /// <summary>Delayed delivery: the message stays invisible to consumers until this time (ETA and countdown).</summary>
    public DateTimeOffset? NotBefore { get; init; }
}

/// <summary>How a consumer takes messages from a queue.</summary>
/// <param name="Prefetch">Most unacknowledged deliveries held at once; 0 means no limit (AMQP's basic.qos).</param>
/// <param name="NoAck">Deliveries count as acknowledged when handed out (pidbox and reply queues).</param>
public sealed record ConsumeOptions(int Prefetch = 0, bool NoAck = false);

/// <summary>A message handed to a consumer, to be acked or rejected exactly once.</summary>
public sealed record Delivery(
    Envelope Message,
    string Exchange,
    string RoutingKey,
    string Queue,
    ulong DeliveryTag,
    bool Redelivered);

/// <summary>One consumer on one queue. Deliveries arrive on a channel; the prefetch window bounds the unacked ones.</summary>
public interface IQueueConsumer : IAsyncDisposable
{
    string Queue { get; }

    /// <summary>Completes when the consumer is cancelled, or faults with <see cref="TransportException"/> when the connection is lost.</summary>
    ChannelReader<Delivery> Deliveries { get; }

    /// <summary>Changes the prefetch window at run time (Celery raises it by one for each held ETA task).</summary>
    ValueTask SetPrefetchAsync(int prefetch, CancellationToken cancellationToken = default);

    ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default);

    /// <summary>
    /// Rejects a delivery. With <paramref name="requeue"/> it becomes ready again (redelivered);
    /// without, it is dead-lettered when the queue has a dead-letter exchange, carrying <paramref name="reason"/>
    /// in the <see cref="DeadLetter.ReasonHeader"/> header, and dropped otherwise.
    /// </summary>
    ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default);
}

/// <summary>Names used for dead-lettered messages on every transport.</summary>
public static class DeadLetter
{
    /// <summary>Header holding the human-readable reason a message was dead-lettered.</summary>
    public const string ReasonHeader = "x-cq-dead-letter-reason";
}

/// <summary>A broker operation failed: the connection is lost, or the broker refused the request.</summary>
public class TransportException(string message, Exception? inner = null) : Exception(message, inner);
