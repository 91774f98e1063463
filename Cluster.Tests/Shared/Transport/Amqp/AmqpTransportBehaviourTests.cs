using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;

namespace ClusterQueue.Tests.Transport.Amqp;

/// <summary>The shared queue semantics on RabbitMQ, each test in a vhost of its own.</summary>
/// <remarks>
/// Where RabbitMQ differs, the hooks say so: its own dead-lettering of expired messages carries the reason only in
/// <c>x-death</c>; a per-message expiration takes effect at the head of the queue only; a delayed message waits in the
/// delay queues, so purging its target does not count it; and an expired message that RabbitMQ drops is not counted.
/// </remarks>
[Trait("Server", AmqpTestBroker.Trait)]
public sealed class AmqpTransportBehaviourTests : TransportBehaviourTests
{
    private readonly string vhost = AmqpTestBroker.NewVhost();

    protected override ITransport OpenTransport() => AmqpTestBroker.Open(vhost);

    protected override long UnroutableCount(ITransport transport) => ((AmqpTransport)transport).UnroutableCount;

    protected override long DroppedDeadLetterCount(ITransport transport) => ((AmqpTransport)transport).DroppedDeadLetterCount;

    protected override async Task ExpiredMessageDroppedAsync(ITransport transport, string queue)
    {
        // RabbitMQ drops it without telling anyone; all there is to see is the queue becoming empty.
        var amqp = (AmqpTransport)transport;
        var deadline = DateTime.UtcNow + TransportTestKit.Patience;
        while (await amqp.MessageCountAsync(queue) != 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"queue '{queue}' still holds its expired message after {TransportTestKit.Patience}");
            }

            await Task.Delay(20);
        }
    }

    protected override bool ExpiryAddsReasonHeader => false;

    protected override bool ExpiresBehindTheHead => false;

    protected override bool DelayedMessagesWaitInTheirQueue => false;
}
