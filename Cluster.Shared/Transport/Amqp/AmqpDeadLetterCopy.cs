using ClusterQueue.Protocol;

namespace ClusterQueue.Transport.Amqp;

/// <summary>The copy of a rejected message that the transport dead-letters itself, marked as RabbitMQ marks its own.</summary>
internal static class AmqpDeadLetterCopy
{
    public static Envelope Of(Delivery delivery, string reason, DateTimeOffset now)
    {
        var original = delivery.Message;
        var death = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["queue"] = delivery.Queue,
            ["reason"] = "rejected",
            ["exchange"] = delivery.Exchange,
            ["routing-keys"] = new List<object?> { delivery.RoutingKey },
            ["count"] = 1,
            ["time"] = now.ToUnixTimeSeconds(),
        };
        if (original.Properties.Expiration is { } expiration)
        {
            death["original-expiration"] = expiration;
        }

        var deaths = new List<object?> { death };
        if (original.Headers.TryGetValue("x-death", out var earlier) && earlier is IEnumerable<object?> previous)
        {
            deaths.AddRange(previous);
        }

        var headers = new Dictionary<string, object?>(original.Headers, StringComparer.Ordinal)
        {
            [DeadLetter.ReasonHeader] = reason,
            ["x-death"] = deaths,
        };
        // RabbitMQ drops the expiration of a dead-lettered message so that it does not expire again at once.
        return original with { Headers = headers, Properties = original.Properties with { Expiration = null } };
    }
}
