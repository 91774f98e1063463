namespace ClusterQueue.Protocol;

/// <summary>One message as a broker carries it: body bytes, AMQP basic properties and application headers.</summary>
/// <remarks>
/// Header values are limited to the AMQP field types that Python's py-amqp reads the same way:
/// <see cref="string"/>, <see cref="int"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>,
/// <see langword="null"/>, <see cref="IReadOnlyList{T}"/> of such values and
/// <see cref="IReadOnlyDictionary{TKey,TValue}"/> of string to such values (interop note 3).
/// </remarks>
public sealed record Envelope
{
    public static readonly IReadOnlyDictionary<string, object?> NoHeaders = new Dictionary<string, object?>();

    public required ReadOnlyMemory<byte> Body { get; init; }

    public MessageProperties Properties { get; init; } = MessageProperties.Json;

    public IReadOnlyDictionary<string, object?> Headers { get; init; } = NoHeaders;
}

/// <summary>The AMQP 0-9-1 basic properties that Celery sets, with kombu's defaults.</summary>
public sealed record MessageProperties
{
    /// <summary>JSON in UTF-8, persistent, priority 0: what kombu puts on a task message.</summary>
    public static readonly MessageProperties Json = new();

    public string ContentType { get; init; } = "application/json";

    public string ContentEncoding { get; init; } = "utf-8";

    /// <summary>1 = transient, 2 = persistent.</summary>
    public byte DeliveryMode { get; init; } = 2;

    /// <summary>0–9, or null for no priority property (as on <c>celery.chord_unlock</c>).</summary>
    public byte? Priority { get; init; } = 0;

    public string? CorrelationId { get; init; }

    public string? ReplyTo { get; init; }

    /// <summary>Per-message TTL in milliseconds as a decimal string, as AMQP carries it.</summary>
    public string? Expiration { get; init; }

    public string? MessageId { get; init; }
}
