using System.Collections.Concurrent;
using System.Threading.Channels;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node;

/// <summary>
/// A transport decorator for worker tests: records every publish, and can break every open consumer's channel the
/// way a lost broker connection does (the channel faults with <see cref="TransportException"/>, unacked messages return).
/// </summary>
public sealed class FaultyTransport(ITransport inner) : ITransport
{
    private readonly ConcurrentDictionary<FaultyConsumer, byte> _open = new();
    private int _consumersOpened;

    public ITransport Inner { get; } = inner;

    public ConcurrentQueue<(string Exchange, string RoutingKey, Envelope Message, PublishOptions? Options)> Published { get; } = new();

    /// <summary>The options of every consumer opened, in order.</summary>
    public ConcurrentQueue<(string Queue, ConsumeOptions Options)> Consumed { get; } = new();

    /// <summary>How many consumers were opened so far; a restarted consumer opens another.</summary>
    public int ConsumersOpened => Volatile.Read(ref _consumersOpened);

    /// <summary>Breaks every open consumer: its channel faults, and the broker takes back what it held unacked.</summary>
    public async Task FaultConsumersAsync()
    {
        foreach (var consumer in _open.Keys)
        {
            _open.TryRemove(consumer, out _);
            await consumer.FaultAsync();
        }
    }

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default) =>
        Inner.DeclareExchangeAsync(exchange, cancellationToken);

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default) =>
        Inner.DeclareQueueAsync(queue, cancellationToken);

    public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default) =>
        Inner.BindQueueAsync(binding, cancellationToken);

    public ValueTask PublishAsync(string exchange, string routingKey, Envelope message, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        Published.Enqueue((exchange, routingKey, message, options));
        return Inner.PublishAsync(exchange, routingKey, message, options, cancellationToken);
    }

    public async ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default)
    {
        Consumed.Enqueue((queue, options));
        var consumer = new FaultyConsumer(await Inner.ConsumeAsync(queue, options, cancellationToken), this);
        Interlocked.Increment(ref _consumersOpened);
        _open.TryAdd(consumer, 0);
        return consumer;
    }

    public ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default) => Inner.PurgeQueueAsync(queue, cancellationToken);

    public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default) => Inner.DeleteQueueAsync(queue, cancellationToken);

    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    private sealed class FaultyConsumer : IQueueConsumer
    {
        private readonly IQueueConsumer _inner;
        private readonly FaultyTransport _owner;
        private readonly Channel<Delivery> _deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleWriter = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _pump;

        public FaultyConsumer(IQueueConsumer inner, FaultyTransport owner)
        {
            _inner = inner;
            _owner = owner;
            _pump = Task.Run(PumpAsync);
        }

        public string Queue => _inner.Queue;

        public ChannelReader<Delivery> Deliveries => _deliveries.Reader;

        public ValueTask SetPrefetchAsync(int prefetch, CancellationToken cancellationToken = default) => _inner.SetPrefetchAsync(prefetch, cancellationToken);

        public ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken = default) => _inner.AckAsync(delivery, cancellationToken);

        public ValueTask RejectAsync(Delivery delivery, bool requeue, string? reason = null, CancellationToken cancellationToken = default) =>
            _inner.RejectAsync(delivery, requeue, reason, cancellationToken);

        public async Task FaultAsync()
        {
            await _stop.CancelAsync();
            await _pump;
            await _inner.DisposeAsync();
            _deliveries.Writer.TryComplete(new TransportException($"connection to the broker lost (consumer of '{Queue}')"));
        }

        public async ValueTask DisposeAsync()
        {
            _owner._open.TryRemove(this, out _);
            await _stop.CancelAsync();
            await _pump;
            await _inner.DisposeAsync();
            _deliveries.Writer.TryComplete();
        }

        private async Task PumpAsync()
        {
            try
            {
                await foreach (var delivery in _inner.Deliveries.ReadAllAsync(_stop.Token))
                {
                    _deliveries.Writer.TryWrite(delivery);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
