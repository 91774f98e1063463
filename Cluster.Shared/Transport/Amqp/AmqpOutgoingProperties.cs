using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Basic properties that can carry <c>priority = 0</c>, which kombu puts on almost every message.</summary>
/// <remarks>
/// RabbitMQ.Client 7's <see cref="BasicProperties"/> takes a property at its default value as absent, so it never
/// writes priority 0. This writes the properties with priority 1 and then sets that byte to 0; its offset is the
/// length of the properties that precede priority on the wire (content type, content encoding, headers, delivery mode).
/// </remarks>
internal sealed class AmqpOutgoingProperties(BasicProperties properties, bool zeroPriority) : IReadOnlyBasicProperties, IAmqpHeader
{
    public BasicProperties Properties { get; } = properties;

    public string? AppId => Properties.AppId;

    public string? ClusterId => Properties.ClusterId;

    public string? ContentEncoding => Properties.ContentEncoding;

    public string? ContentType => Properties.ContentType;

    public string? CorrelationId => Properties.CorrelationId;

    public DeliveryModes DeliveryMode => Properties.DeliveryMode;

    public string? Expiration => Properties.Expiration;

    public IDictionary<string, object?>? Headers => Properties.Headers;

    public string? MessageId => Properties.MessageId;

    public bool Persistent => Properties.Persistent;

    public byte Priority => zeroPriority ? (byte)0 : Properties.Priority;

    public string? ReplyTo => Properties.ReplyTo;

    public PublicationAddress? ReplyToAddress => Properties.ReplyToAddress;

    public AmqpTimestamp Timestamp => Properties.Timestamp;

    public string? Type => Properties.Type;

    public string? UserId => Properties.UserId;

    public ushort ProtocolClassId => ((IAmqpHeader)Properties).ProtocolClassId;

    public bool IsAppIdPresent() => Properties.IsAppIdPresent();

    public bool IsClusterIdPresent() => Properties.IsClusterIdPresent();

    public bool IsContentEncodingPresent() => Properties.IsContentEncodingPresent();

    public bool IsContentTypePresent() => Properties.IsContentTypePresent();

    public bool IsCorrelationIdPresent() => Properties.IsCorrelationIdPresent();

    public bool IsDeliveryModePresent() => Properties.IsDeliveryModePresent();

    public bool IsExpirationPresent() => Properties.IsExpirationPresent();

    public bool IsHeadersPresent() => Properties.IsHeadersPresent();

    public bool IsMessageIdPresent() => Properties.IsMessageIdPresent();

    public bool IsPriorityPresent() => zeroPriority || Properties.IsPriorityPresent();

    public bool IsReplyToPresent() => Properties.IsReplyToPresent();

    public bool IsTimestampPresent() => Properties.IsTimestampPresent();

    public bool IsTypePresent() => Properties.IsTypePresent();

    public bool IsUserIdPresent() => Properties.IsUserIdPresent();

    public int GetRequiredBufferSize() => Writable(WithPriorityOne()).GetRequiredBufferSize();

    public int WriteTo(Span<byte> span)
    {
        if (!zeroPriority)
        {
            return Writable(Properties).WriteTo(span);
        }

        var written = Writable(WithPriorityOne()).WriteTo(span);
        var prefix = new BasicProperties
        {
            ContentType = Properties.ContentType,
            ContentEncoding = Properties.ContentEncoding,
            Headers = Properties.Headers,
            DeliveryMode = Properties.DeliveryMode,
            Priority = 1,
        };
        var prefixWriter = Writable(prefix);
        var scratch = new byte[prefixWriter.GetRequiredBufferSize()];
        var priorityOffset = prefixWriter.WriteTo(scratch) - 1;
        span[priorityOffset] = 0;
        return written;
    }

    private static IAmqpWriteable Writable(BasicProperties properties) => properties;

    private BasicProperties WithPriorityOne() => zeroPriority ? new BasicProperties(Properties) { Priority = 1 } : Properties;
}
