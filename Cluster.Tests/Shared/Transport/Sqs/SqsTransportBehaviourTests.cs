using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Tests.Transport.Sqs;

/// <summary>The shared queue semantics on SQS, each test with a queue-name prefix of its own.</summary>
/// <remarks>
/// Where SQS differs, the hooks say so: it has no priorities, and it has no per-message TTL, so the transport expires
/// a message when a consumer receives it; a queue that nobody consumes keeps its expired messages.
/// </remarks>
[Trait("Server", SqsTestServer.Trait)]
public sealed class SqsTransportBehaviourTests : TransportBehaviourTests
{
    private readonly string prefix = SqsTestServer.NewPrefix();

    protected override ITransport OpenTransport() => SqsTestServer.Open(prefix);

    protected override long UnroutableCount(ITransport transport) => ((SqsTransport)transport).UnroutableCount;

    protected override long DroppedDeadLetterCount(ITransport transport) => ((SqsTransport)transport).DroppedDeadLetterCount;

    protected override bool HasPriorities => false;

    /// <summary>Starts receiving once the tests' TTLs (100 ms at most) have run out; a receive before that delivers the message, as a broker delivers to a waiting consumer.</summary>
    protected override async Task<IAsyncDisposable> ExpiryWatchAsync(ITransport transport, string queue)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        return await transport.ConsumeAsync(queue, new ConsumeOptions());
    }

    protected override async Task ExpiredMessageDroppedAsync(ITransport transport, string queue)
    {
        await using var watch = await ExpiryWatchAsync(transport, queue);
        await TransportTestKit.EventuallyAsync(() => DroppedDeadLetterCount(transport) == 1, "dropping the expired message");
    }
}
