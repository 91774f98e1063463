using ClusterQueue.Transport.Routing;
using ClusterQueue.Transport.Virtual;

namespace ClusterQueue.Transport.Memory;

/// <summary>An in-process broker: topology and messages in memory, under one lock. Shared by every transport opened on the same name.</summary>
internal sealed class MemoryMessageStore : IMessageStore
{
    private readonly Lock gate = new();
    private readonly VirtualRoutingTable table = new();
    private readonly Dictionary<string, MemoryQueue> queues = new(StringComparer.Ordinal);
    private long nextId;

    public QueueSignals Signals { get; } = new();

    public ValueTask<VirtualRoutingTable> TopologyAsync(CancellationToken cancellationToken) => ValueTask.FromResult(table);

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken)
    {
        table.DeclareExchange(exchange);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            table.DeclareQueue(queue);
            if (!queues.ContainsKey(queue.Name))
            {
                queues[queue.Name] = new MemoryQueue();
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask BindAsync(QueueBinding binding, CancellationToken cancellationToken)
    {
        table.Bind(binding);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            table.DeleteQueue(queue);
            queues.Remove(queue);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask EnqueueAsync(IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var message in messages)
            {
                // A queue deleted between routing and here loses the message, as on a broker.
                if (queues.TryGetValue(message.Queue, out var queue))
                {
                    queue.Add(++nextId, message);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<StoredMessage>> TakeAsync(
        string queue, string consumerId, int max, long nowMs, long leaseUntilMs, bool remove, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            IReadOnlyList<StoredMessage> taken = queues.TryGetValue(queue, out var q)
                ? q.Take(queue, consumerId, max, nowMs, leaseUntilMs, remove)
                : [];
            return ValueTask.FromResult(taken);
        }
    }

    public ValueTask RenewAsync(string consumerId, IReadOnlyCollection<long> ids, long leaseUntilMs, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var queue in queues.Values)
            {
                queue.Renew(consumerId, ids, leaseUntilMs);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> SettleAsync(long id, string consumerId, IReadOnlyList<NewMessage> replacements, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var settled = queues.Values.Any(queue => queue.Remove(id, consumerId));
            if (settled)
            {
                foreach (var message in replacements)
                {
                    if (queues.TryGetValue(message.Queue, out var target))
                    {
                        target.Add(++nextId, message);
                    }
                }
            }

            return ValueTask.FromResult(settled);
        }
    }

    public ValueTask ReleaseAsync(IReadOnlyCollection<long> ids, string consumerId, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var queue in queues.Values)
            {
                queue.Release(consumerId, ids);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<long> PurgeAsync(string queue, long nowMs, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(queues.TryGetValue(queue, out var q) ? q.Purge(nowMs) : 0L);
        }
    }

    public ValueTask<int> ExpireAsync(long nowMs, Func<StoredMessage, IReadOnlyList<NewMessage>> deadLetter, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var count = 0;
            var copies = new List<NewMessage>();
            foreach (var (name, queue) in queues)
            {
                foreach (var message in queue.TakeExpired(name, nowMs))
                {
                    count++;
                    copies.AddRange(deadLetter(message));
                }
            }

            foreach (var copy in copies)
            {
                if (queues.TryGetValue(copy.Queue, out var target))
                {
                    target.Add(++nextId, copy);
                }
            }

            return ValueTask.FromResult(count);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
