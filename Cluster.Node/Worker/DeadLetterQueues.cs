using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// The dead-letter queue of each consumed queue: exchange <c>&lt;queue&gt;.dead-letter</c> (direct) routing to queue
/// <c>&lt;queue&gt;.dlq</c> by the queue's name.
/// </summary>
/// <remarks>
/// The node publishes a bad message there itself, with the reason in <see cref="DeadLetter.ReasonHeader"/>, and then acks
/// it, instead of declaring <c>x-dead-letter-exchange</c> on the task queue: RabbitMQ refuses to redeclare a queue with
/// different arguments, and Celery declares <c>celery</c> without any, so both must agree on a plain queue.
/// </remarks>
internal static class DeadLetterQueues
{
    public static string ExchangeFor(string queue) => queue + ".dead-letter";

    public static string QueueFor(string queue) => queue + ".dlq";

    public static async Task DeclareAsync(ITransport transport, string queue, CancellationToken cancellationToken)
    {
        var exchange = ExchangeFor(queue);
        await transport.DeclareExchangeAsync(new ExchangeDeclaration(exchange, ExchangeType.Direct), cancellationToken).ConfigureAwait(false);
        await transport.DeclareQueueAsync(new QueueDeclaration(QueueFor(queue)), cancellationToken).ConfigureAwait(false);
        await transport.BindQueueAsync(new QueueBinding(QueueFor(queue), exchange, queue), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes the message as it arrived, plus the reason header, to the queue's dead-letter queue.</summary>
    public static async Task PublishAsync(ITransport transport, Delivery delivery, string reason, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, object?>(delivery.Message.Headers, StringComparer.Ordinal)
        {
            [DeadLetter.ReasonHeader] = reason,
        };
        var copy = delivery.Message with { Headers = headers };
        await transport.PublishAsync(ExchangeFor(delivery.Queue), delivery.Queue, copy, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
