using System.Globalization;
using ClusterQueue.Protocol;
using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Maps envelopes to AMQP basic properties and back.</summary>
internal static class AmqpMessages
{
    public static AmqpOutgoingProperties ToProperties(Envelope message)
    {
        var source = message.Properties;
        if (source.DeliveryMode is not (1 or 2))
        {
            throw new PreconditionFailedException($"message property delivery_mode must be 1 (transient) or 2 (persistent), got {source.DeliveryMode}");
        }

        if (source.Expiration is { } expiration
            && !long.TryParse(expiration, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new PreconditionFailedException(
                $"message property expiration must be a non-negative whole number of milliseconds, got '{expiration}'");
        }

        var properties = new BasicProperties
        {
            ContentType = source.ContentType,
            ContentEncoding = source.ContentEncoding,
            DeliveryMode = (DeliveryModes)source.DeliveryMode,
            Headers = AmqpFieldTable.ToAmqp(message.Headers, "header"),
        };
        if (source.Priority is { } priority and > 0)
        {
            properties.Priority = priority;
        }

        if (source.CorrelationId is not null)
        {
            properties.CorrelationId = source.CorrelationId;
        }

        if (source.ReplyTo is not null)
        {
            properties.ReplyTo = source.ReplyTo;
        }

        if (source.Expiration is not null)
        {
            properties.Expiration = source.Expiration;
        }

        if (source.MessageId is not null)
        {
            properties.MessageId = source.MessageId;
        }

        return new AmqpOutgoingProperties(properties, zeroPriority: source.Priority == 0);
    }

    /// <summary>The envelope of a received message; the body is copied because the client reuses its buffer after the callback.</summary>
    public static Envelope FromDelivery(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body) => new()
    {
        Body = body.ToArray(),
        Properties = new MessageProperties
        {
            ContentType = properties.IsContentTypePresent() ? properties.ContentType! : "",
            ContentEncoding = properties.IsContentEncodingPresent() ? properties.ContentEncoding! : "",
            // AMQP's default for a message without the property is transient.
            DeliveryMode = properties.IsDeliveryModePresent() ? (byte)properties.DeliveryMode : (byte)1,
            // RabbitMQ.Client 7 reads priority 0 as absent, and RabbitMQ treats an absent priority as 0 too.
            Priority = properties.IsPriorityPresent() ? properties.Priority : (byte)0,
            CorrelationId = properties.IsCorrelationIdPresent() ? properties.CorrelationId : null,
            ReplyTo = properties.IsReplyToPresent() ? properties.ReplyTo : null,
            Expiration = properties.IsExpirationPresent() ? properties.Expiration : null,
            MessageId = properties.IsMessageIdPresent() ? properties.MessageId : null,
        },
        Headers = AmqpDelayLadder.WithoutLadderDeaths(AmqpFieldTable.FromAmqp(properties.Headers)),
    };
}
