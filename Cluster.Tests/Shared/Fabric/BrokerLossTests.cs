using System.Collections.Concurrent;
using System.Threading.Channels;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

/// <summary>What the fabric does when a consumer's broker connection is lost: it says so, and the client recovers.</summary>
public sealed class BrokerLossTests : IAsyncLifetime
{
    private readonly ITransport inner = FabricTestKit.MemoryTransport();
    private LosableTransport transport = null!;

    public Task InitializeAsync()
    {
        transport = new LosableTransport(inner);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await inner.DisposeAsync();

    [Fact]
    public async Task PidboxNode_Completion_FaultsWithTheTransportError()
    {
        await using var node = new PidboxNode(transport, "celery@vm", new ControlHandlerRegistry([FabricControlHandlers.Ping()]));
        await node.StartAsync();

        transport.LoseConsumersOf("celery@vm.celery.pidbox");

        await Assert.ThrowsAsync<TransportException>(() => node.Completion.WaitAsync(FabricTestKit.Patience));
    }

    [Fact]
    public async Task EventReceiver_EventsCompleteWithTheTransportError()
    {
        await using var receiver = new EventReceiver(transport);
        await receiver.StartAsync();

        transport.LoseConsumersOf(receiver.QueueName);

        await Assert.ThrowsAsync<TransportException>(() => receiver.Events.Completion.WaitAsync(FabricTestKit.Patience));
    }

    [Fact]
    public async Task ControlClient_AfterLosingItsReplyConsumer_ConsumesAgainOnTheNextCall()
    {
        await using var node = new PidboxNode(inner, "celery@vm", new ControlHandlerRegistry([FabricControlHandlers.Ping()]));
        await node.StartAsync();
        await using var client = new PidboxClient(transport);
        Assert.Single(await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience));

        transport.LoseConsumersOf($"{client.Oid}.reply.celery.pidbox");
        await client.ReplyPump.WaitAsync(FabricTestKit.Patience);
        var replies = await client.PingAsync(ControlTarget.Nodes("celery@vm"), FabricTestKit.Patience);

        Assert.Equal("celery@vm", Assert.Single(replies).Node);
    }

    /// <summary>A transport whose consumers the test can cut off, as a lost connection does.</summary>
    private sealed class LosableTransport(ITransport inner) : ITransport
    {
        private readonly ConcurrentBag<LosableConsumer> consumers = [];

        public void LoseConsumersOf(string queue)
        {
            var cut = consumers.Where(c => c.Queue == queue).ToList();
            Assert.NotEmpty(cut);
            foreach (var consumer in cut) _ = consumer.Lose();
        }

        public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default) => inner.DeclareExchangeAsync(exchange, cancellationToken);

        public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default) => inner.DeclareQueueAsync(queue, cancellationToken);

        public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default) => inner.BindQueueAsync(binding, cancellationToken);

        public ValueTask PublishAsync(string exchange, string routingKey, Envelope message, PublishOptions? options = null, CancellationToken cancellationToken = default) =>
            inner.PublishAsync(exchange, routingKey, message, options, cancellationToken);

        public async ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default)
        {
            var consumer = new LosableConsumer(await inner.ConsumeAsync(queue, options, cancellationToken));
            consumers.Add(consumer);
            return consumer;
        }

        public ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default) => inner.PurgeQueueAsync(queue, cancellationToken);

        public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default) => inner.DeleteQueueAsync(queue, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class LosableConsumer : IQueueConsumer
    {
        private readonly IQueueConsumer inner;
        private readonly Channel<Delivery> deliveries = Channel.CreateUnbounded<Delivery>();
        private readonly CancellationTokenSource cut = new();
        private readonly Task forwarding;

        public LosableConsumer(IQueueConsumer inner)
        {
            this.inner = inner;
            forwarding = ForwardAsync();
        }

        public string Queue => inner.Queue;

        public ChannelReader<Delivery> Deliveries => deliveries.Reader;

        public async Task Lose()
        {
            await cut.CancelAsync();
            await forwarding;
            deliveries.Writer.TryComplete(new TransportException($"connection lost (consumer of '{Queue}')"));
            await inner.DisposeAsync();
        }

        public ValueTask SetPrefetchAsync(int prefetch, CancellationToken cancellationToken = default) => inner.SetPrefetchAsync(prefetch, cancellationToken);

        public ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default) => inner.AckAsync(delivery, cancellationToken);

        public ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default) =>
            inner.RejectAsync(delivery, requeue, reason, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await cut.CancelAsync();
            await forwarding;
            deliveries.Writer.TryComplete();
            await inner.DisposeAsync();
        }

        private async Task ForwardAsync()
        {
            try
            {
                await foreach (var delivery in inner.Deliveries.ReadAllAsync(cut.Token)) await deliveries.Writer.WriteAsync(delivery);
            }
            catch (OperationCanceledException)
            {
                // Cut off by the test, or disposed.
            }
        }
    }
}
