namespace ClusterQueue.Transport.Routing;

/// <summary>Exchanges, queues and bindings for transports without native routing; routes a publish to queue names as RabbitMQ does.</summary>
/// <remarks>Thread-safe. The default exchange <c>""</c> always exists and routes to the queue named by the routing key.</remarks>
public sealed class VirtualRoutingTable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, ExchangeDeclaration> exchanges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeclaredQueue> queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<QueueBinding>> bindingsByExchange = new(StringComparer.Ordinal);

    /// <summary>A declared queue and its parsed arguments.</summary>
    public sealed record DeclaredQueue(QueueDeclaration Declaration, QueueArguments Arguments);

    public void DeclareExchange(ExchangeDeclaration exchange)
    {
        if (exchange.Name.Length == 0)
        {
            throw new PreconditionFailedException("the default exchange \"\" is predeclared and cannot be declared");
        }

        lock (gate)
        {
            if (exchanges.TryGetValue(exchange.Name, out var existing) && existing.Type != exchange.Type)
            {
                throw new PreconditionFailedException(
                    $"exchange '{exchange.Name}' is already declared as {existing.Type}, cannot redeclare it as {exchange.Type}");
            }

            exchanges[exchange.Name] = exchange;
        }
    }

    public DeclaredQueue DeclareQueue(QueueDeclaration queue)
    {
        if (queue.Name.Length == 0)
        {
            throw new PreconditionFailedException("a queue needs a name; server-named queues are not supported");
        }

        var declared = new DeclaredQueue(queue, QueueArguments.Parse(queue.Name, queue.Arguments));
        lock (gate)
        {
            if (queues.TryGetValue(queue.Name, out var existing) && existing.Arguments != declared.Arguments)
            {
                throw new PreconditionFailedException(
                    $"queue '{queue.Name}' is already declared with arguments {existing.Arguments}, cannot redeclare it with {declared.Arguments}");
            }

            queues[queue.Name] = declared;
        }

        return declared;
    }

    public void Bind(QueueBinding binding)
    {
        lock (gate)
        {
            if (!queues.ContainsKey(binding.Queue))
            {
                throw new QueueNotFoundException(binding.Queue);
            }

            if (!exchanges.TryGetValue(binding.Exchange, out var exchange))
            {
                throw binding.Exchange.Length == 0
                    ? new PreconditionFailedException("queues cannot be bound to the default exchange \"\"")
                    : new ExchangeNotFoundException(binding.Exchange);
            }

            if (exchange.Type == ExchangeType.Headers)
            {
                HeadersMatch.Validate(binding);
            }

            if (!bindingsByExchange.TryGetValue(binding.Exchange, out var bindings))
            {
                bindingsByExchange[binding.Exchange] = bindings = [];
            }

            if (!bindings.Any(b => SameBinding(b, binding)))
            {
                bindings.Add(binding);
            }
        }
    }

    /// <summary>Removes a queue and its bindings; returns false if it did not exist.</summary>
    public bool DeleteQueue(string queue)
    {
        lock (gate)
        {
            foreach (var bindings in bindingsByExchange.Values)
            {
                bindings.RemoveAll(b => b.Queue == queue);
            }

            return queues.Remove(queue);
        }
    }

    public DeclaredQueue GetQueue(string queue)
    {
        lock (gate)
        {
            return queues.TryGetValue(queue, out var declared) ? declared : throw new QueueNotFoundException(queue);
        }
    }

    public bool TryGetQueue(string queue, out DeclaredQueue? declared)
    {
        lock (gate)
        {
            return queues.TryGetValue(queue, out declared);
        }
    }

    public bool HasExchange(string exchange)
    {
        lock (gate)
        {
            return exchange.Length == 0 || exchanges.ContainsKey(exchange);
        }
    }

    /// <summary>The queues a message reaches; empty when it is unroutable. An undeclared exchange is an error, as in AMQP.</summary>
    public IReadOnlyList<string> Route(string exchange, string routingKey, IReadOnlyDictionary<string, object?> headers)
    {
        lock (gate)
        {
            if (exchange.Length == 0)
            {
                return queues.ContainsKey(routingKey) ? [routingKey] : [];
            }

            if (!exchanges.TryGetValue(exchange, out var declared))
            {
                throw new ExchangeNotFoundException(exchange);
            }

            if (!bindingsByExchange.TryGetValue(exchange, out var bindings) || bindings.Count == 0)
            {
                return [];
            }

            var keyWords = declared.Type == ExchangeType.Topic ? routingKey.Split('.') : [];
            var targets = new List<string>(1);
            foreach (var binding in bindings)
            {
                var matches = declared.Type switch
                {
                    ExchangeType.Direct => string.Equals(binding.RoutingKey, routingKey, StringComparison.Ordinal),
                    ExchangeType.Fanout => true,
                    ExchangeType.Topic => TopicPattern.Matches(binding.RoutingKey.Split('.'), keyWords),
                    ExchangeType.Headers => HeadersMatch.Matches(binding.Arguments, headers),
                    _ => false,
                };
                if (matches && !targets.Contains(binding.Queue))
                {
                    targets.Add(binding.Queue);
                }
            }

            return targets;
        }
    }

    private static bool SameBinding(QueueBinding a, QueueBinding b) =>
        a.Queue == b.Queue
        && a.Exchange == b.Exchange
        && a.RoutingKey == b.RoutingKey
        && ArgumentsEqual(a.Arguments, b.Arguments);

    private static bool ArgumentsEqual(IReadOnlyDictionary<string, object?>? a, IReadOnlyDictionary<string, object?>? b)
    {
        var left = a ?? Protocol.Envelope.NoHeaders;
        var right = b ?? Protocol.Envelope.NoHeaders;
        return left.Count == right.Count
            && left.All(pair => right.TryGetValue(pair.Key, out var other) && FieldValues.AreEqual(pair.Value, other));
    }
}
