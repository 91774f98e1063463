using ClusterQueue.Protocol;
using ClusterQueue.Transport.Amqp;
using RabbitMQ.Client;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport.Amqp;

/// <summary>The property bytes on the wire: priority 0 is written, as kombu writes it, though RabbitMQ.Client would drop it.</summary>
public sealed class AmqpOutgoingPropertiesTests
{
    private const byte PriorityFlag = 1 << 3;

    [Fact]
    public void Priority_zero_is_written_with_its_flag_and_a_zero_byte_where_priority_one_would_be()
    {
        var zero = Write(AmqpMessages.ToProperties(Message("x", priority: 0, headers: Map(("task", "tasks.add"), ("retries", 0)))));
        var one = Write(AmqpMessages.ToProperties(Message("x", priority: 1, headers: Map(("task", "tasks.add"), ("retries", 0)))));

        Assert.Equal(one.Length, zero.Length);
        Assert.Equal(PriorityFlag, zero[0] & PriorityFlag);
        var differing = Enumerable.Range(0, one.Length).Where(i => one[i] != zero[i]).ToList();
        var offset = Assert.Single(differing);
        Assert.Equal((1, 0), (one[offset], zero[offset]));
    }

    [Fact]
    public void No_priority_property_writes_no_priority_flag()
    {
        var none = Write(AmqpMessages.ToProperties(Message("x", priority: null)));

        Assert.Equal(0, none[0] & PriorityFlag);
    }

    [Fact]
    public void Properties_of_a_celery_task_are_all_written()
    {
        var message = Message("x") with
        {
            Properties = MessageProperties.Json with { CorrelationId = "id", ReplyTo = "reply", Expiration = "60000", MessageId = "m" },
        };

        var properties = AmqpMessages.ToProperties(message);

        Assert.True(properties.IsPriorityPresent() && properties.IsCorrelationIdPresent() && properties.IsReplyToPresent()
            && properties.IsExpirationPresent() && properties.IsMessageIdPresent() && properties.IsDeliveryModePresent());
        Assert.Equal((DeliveryModes.Persistent, "60000"), (properties.DeliveryMode, properties.Expiration));
    }

    private static byte[] Write(IAmqpWriteable properties)
    {
        var buffer = new byte[properties.GetRequiredBufferSize()];
        var written = properties.WriteTo(buffer);
        return buffer[..written];
    }
}
