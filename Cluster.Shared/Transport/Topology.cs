namespace ClusterQueue.Transport;

/// <summary>The four kombu exchange types.</summary>
public enum ExchangeType
{
    Direct,
    Topic,
    Fanout,
    Headers,
}

/// <summary>An exchange as kombu declares it.</summary>
public sealed record ExchangeDeclaration(string Name, ExchangeType Type, bool Durable = true, bool AutoDelete = false);

/// <summary>A queue as kombu declares it. Arguments use RabbitMQ's names and units (milliseconds).</summary>
/// <remarks>
/// Every transport honours <c>x-message-ttl</c>, <c>x-expires</c>, <c>x-max-priority</c>,
/// <c>x-dead-letter-exchange</c> and <c>x-dead-letter-routing-key</c>.
/// </remarks>
public sealed record QueueDeclaration(
    string Name,
    bool Durable = true,
    bool AutoDelete = false,
    bool Exclusive = false,
    IReadOnlyDictionary<string, object?>? Arguments = null);

/// <summary>A binding of a queue to an exchange; headers exchanges match on <paramref name="Arguments"/> (<c>x-match</c>).</summary>
public sealed record QueueBinding(
    string Queue,
    string Exchange,
    string RoutingKey,
    IReadOnlyDictionary<string, object?>? Arguments = null);
