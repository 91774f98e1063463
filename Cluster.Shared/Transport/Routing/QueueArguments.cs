namespace ClusterQueue.Transport.Routing;

/// <summary>The RabbitMQ queue arguments every virtual transport honours, parsed and checked.</summary>
public sealed record QueueArguments(
    TimeSpan? MessageTtl,
    TimeSpan? Expires,
    byte? MaxPriority,
    string? DeadLetterExchange,
    string? DeadLetterRoutingKey)
{
    public static readonly QueueArguments None = new(null, null, null, null, null);

    /// <summary>Reads <c>x-message-ttl</c>, <c>x-expires</c>, <c>x-max-priority</c>, <c>x-dead-letter-exchange</c> and <c>x-dead-letter-routing-key</c>.</summary>
    public static QueueArguments Parse(string queue, IReadOnlyDictionary<string, object?>? arguments)
    {
        if (arguments is null || arguments.Count == 0)
        {
            return None;
        }

        return new QueueArguments(
            Milliseconds(queue, arguments, "x-message-ttl", minimum: 0),
            Milliseconds(queue, arguments, "x-expires", minimum: 1),
            MaxPriorityOf(queue, arguments),
            Text(queue, arguments, "x-dead-letter-exchange"),
            Text(queue, arguments, "x-dead-letter-routing-key"));
    }

    /// <summary>The priority a message gets in this queue: RabbitMQ ignores priorities on a queue without <c>x-max-priority</c> and caps them at it.</summary>
    public byte EffectivePriority(byte? messagePriority) =>
        MaxPriority is { } max && messagePriority is { } p ? Math.Min(p, max) : (byte)0;

    private static TimeSpan? Milliseconds(string queue, IReadOnlyDictionary<string, object?> arguments, string key, long minimum)
    {
        if (!arguments.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        long ms = value switch
        {
            int i => i,
            long l => l,
            _ => throw Invalid(queue, key, value, "an integer number of milliseconds"),
        };
        if (ms < minimum)
        {
            throw Invalid(queue, key, value, $"at least {minimum}");
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private static byte? MaxPriorityOf(string queue, IReadOnlyDictionary<string, object?> arguments)
    {
        const string key = "x-max-priority";
        if (!arguments.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        return value switch
        {
            int i and >= 1 and <= 255 => (byte)i,
            long l and >= 1 and <= 255 => (byte)l,
            _ => throw Invalid(queue, key, value, "an integer from 1 to 255"),
        };
    }

    private static string? Text(string queue, IReadOnlyDictionary<string, object?> arguments, string key)
    {
        if (!arguments.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        return value as string ?? throw Invalid(queue, key, value, "a string");
    }

    private static PreconditionFailedException Invalid(string queue, string key, object value, string expected) =>
        new($"queue '{queue}': argument {key} must be {expected}, got {value} ({value.GetType().Name})");
}
