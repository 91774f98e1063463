using System.Globalization;
using ClusterQueue.Transport;

namespace ClusterQueue.Fabric.Control;

/// <summary>The exchanges and queues of kombu's pidbox mailbox, named and declared as Celery 5.2.6 does.</summary>
public sealed class PidboxTopology
{
    public PidboxTopology(ControlSettings? settings = null)
    {
        settings ??= new ControlSettings();
        if (string.IsNullOrWhiteSpace(settings.Exchange)) throw new ArgumentException("control exchange must not be empty", nameof(settings));
        RequestExchange = $"{settings.Exchange}.pidbox";
        ReplyExchange = $"reply.{settings.Exchange}.pidbox";
        QueueArguments = new Dictionary<string, object?>
        {
            ["x-message-ttl"] = Milliseconds(settings.QueueTtl, nameof(settings.QueueTtl)),
            ["x-expires"] = Milliseconds(settings.QueueExpires, nameof(settings.QueueExpires)),
        };
    }

    /// <summary><c>celery.pidbox</c>: every node queue is bound to it, and each node filters for itself.</summary>
    public string RequestExchange { get; }

    /// <summary><c>reply.celery.pidbox</c>: replies are routed by the caller's oid.</summary>
    public string ReplyExchange { get; }

    /// <summary>Arguments of node and reply queues, in milliseconds; RabbitMQ refuses a redeclaration that differs (interop note 28).</summary>
    public IReadOnlyDictionary<string, object?> QueueArguments { get; }

    public ExchangeDeclaration RequestExchangeDeclaration => new(RequestExchange, ExchangeType.Fanout, Durable: false, AutoDelete: false);

    public ExchangeDeclaration ReplyExchangeDeclaration => new(ReplyExchange, ExchangeType.Direct, Durable: false, AutoDelete: false);

    /// <summary><c>celery@vm.celery.pidbox</c>.</summary>
    public string NodeQueue(string nodeName) => $"{nodeName}.{RequestExchange}";

    /// <summary><c>&lt;oid&gt;.reply.celery.pidbox</c>.</summary>
    public string ReplyQueue(string oid) => $"{oid}.{ReplyExchange}";

    public QueueDeclaration NodeQueueDeclaration(string nodeName) =>
        new(NodeQueue(nodeName), Durable: false, AutoDelete: true, Arguments: QueueArguments);

    public QueueDeclaration ReplyQueueDeclaration(string oid) =>
        new(ReplyQueue(oid), Durable: false, AutoDelete: true, Arguments: QueueArguments);

    /// <summary>Declares both exchanges; every party does this, as kombu does, so that the first publish never goes nowhere.</summary>
    public async ValueTask DeclareExchangesAsync(ITransport transport, CancellationToken cancellationToken)
    {
        await transport.DeclareExchangeAsync(RequestExchangeDeclaration, cancellationToken).ConfigureAwait(false);
        await transport.DeclareExchangeAsync(ReplyExchangeDeclaration, cancellationToken).ConfigureAwait(false);
    }

    private static int Milliseconds(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"control {name} must be between 1 ms and {int.MaxValue} ms"));
        }

        return (int)value.TotalMilliseconds;
    }
}
