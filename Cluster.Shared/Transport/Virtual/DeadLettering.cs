using ClusterQueue.Protocol;
using ClusterQueue.Transport.Routing;

namespace ClusterQueue.Transport.Virtual;

/// <summary>Builds the dead-letter copies of a message as RabbitMQ does: routed through the queue's dead-letter exchange, with an x-death record.</summary>
internal static class DeadLettering
{
    public const string DeathHeader = "x-death";

    /// <summary>The copies to enqueue; empty when the queue has no dead-letter exchange or the copy is unroutable (the message is dropped).</summary>
    public static IReadOnlyList<NewMessage> Copies(VirtualRoutingTable table, StoredMessage message, string reason, string? detail, long nowMs)
    {
        if (!table.TryGetQueue(message.Queue, out var queue) || queue!.Arguments.DeadLetterExchange is not { } exchange
            || !table.HasExchange(exchange))
        {
            return [];
        }

        var routingKey = queue.Arguments.DeadLetterRoutingKey ?? message.RoutingKey;
        var envelope = Mark(message, reason, detail, nowMs);
        var targets = table.Route(exchange, routingKey, envelope.Headers);
        var copies = new List<NewMessage>(targets.Count);
        foreach (var target in targets)
        {
            var arguments = table.GetQueue(target).Arguments;
            copies.Add(new NewMessage(
                target, envelope, exchange, routingKey,
                arguments.EffectivePriority(envelope.Properties.Priority),
                nowMs,
                arguments.MessageTtl is { } ttl ? nowMs + (long)ttl.TotalMilliseconds : null));
        }

        return copies;
    }

    /// <summary>RabbitMQ drops the expiration property from a dead-lettered copy so that it does not expire again at once.</summary>
    private static Envelope Mark(StoredMessage message, string reason, string? detail, long nowMs)
    {
        var headers = new Dictionary<string, object?>(message.Message.Headers, StringComparer.Ordinal)
        {
            [DeadLetter.ReasonHeader] = detail ?? reason,
        };
        var deaths = new List<object?>
        {
            new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["queue"] = message.Queue,
                ["reason"] = reason,
                ["exchange"] = message.Exchange,
                ["routing-keys"] = new List<object?> { message.RoutingKey },
                ["count"] = 1L,
                ["time"] = nowMs / 1000,
            },
        };
        if (message.Message.Headers.TryGetValue(DeathHeader, out var earlier) && earlier is IEnumerable<object?> previous)
        {
            deaths.AddRange(previous);
        }

        headers[DeathHeader] = deaths;
        return message.Message with
        {
            Headers = headers,
            Properties = message.Message.Properties with { Expiration = null },
        };
    }
}
