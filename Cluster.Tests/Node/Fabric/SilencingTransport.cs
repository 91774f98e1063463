using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>
/// A node's broker connection that can go silent on the events exchange, as a killed node does: no more heartbeats
/// and no worker-offline, while everything else keeps working.
/// </summary>
public sealed class SilencingTransport(ITransport inner) : ITransport
{
    private volatile bool _silent;

    public void Silence() => _silent = true;

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default) => inner.DeclareExchangeAsync(exchange, cancellationToken);

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default) => inner.DeclareQueueAsync(queue, cancellationToken);

    public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default) => inner.BindQueueAsync(binding, cancellationToken);

    public ValueTask PublishAsync(string exchange, string routingKey, Envelope message, PublishOptions? options = null, CancellationToken cancellationToken = default) =>
        _silent && exchange == "celeryev" ? ValueTask.CompletedTask : inner.PublishAsync(exchange, routingKey, message, options, cancellationToken);

    public ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default) => inner.ConsumeAsync(queue, options, cancellationToken);

    public ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default) => inner.PurgeQueueAsync(queue, cancellationToken);

    public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default) => inner.DeleteQueueAsync(queue, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
