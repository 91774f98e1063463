namespace ClusterQueue.Transport;

/// <summary>A broker URL that cannot be opened: malformed, or with a scheme no transport serves.</summary>
public sealed class BrokerUrlException(string url, string problem)
    : TransportException($"broker URL '{url}': {problem}")
{
    public string Url { get; } = url;
}

/// <summary>An operation named an exchange that was never declared (AMQP's NOT_FOUND).</summary>
public sealed class ExchangeNotFoundException(string exchange)
    : TransportException($"exchange '{exchange}' is not declared")
{
    public string Exchange { get; } = exchange;
}

/// <summary>An operation named a queue that was never declared (AMQP's NOT_FOUND).</summary>
public sealed class QueueNotFoundException(string queue)
    : TransportException($"queue '{queue}' is not declared")
{
    public string Queue { get; } = queue;
}

/// <summary>A request the broker refuses as given: a bad argument, a conflicting redeclaration, an unknown delivery tag (AMQP's PRECONDITION_FAILED).</summary>
public sealed class PreconditionFailedException(string message) : TransportException(message);
