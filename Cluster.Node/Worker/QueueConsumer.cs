using System.Text.Json.Nodes;
using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Worker;

/// <summary>
/// Consumes one queue: connects with the prefetch window, decodes each delivery, dead-letters bad ones, sends far
/// ETAs back to the broker, holds near ones in the timers and hands the rest to the pool. A lost channel fails this
/// actor, and its backoff supervisor starts a fresh one; what it held unacked goes back to the broker.
/// </summary>
internal sealed class QueueConsumer : NodeActor
{
    private readonly NodeServices _node;
    private readonly string _queue;
    private readonly IActorRef _pool;
    private readonly IActorRef _timers;
    private QueueLease? _lease;
    private CancellationTokenSource? _pumpStop;
    private int _room;

    private ILogger Log { get; }

    public QueueConsumer(NodeServices node, string queue, IActorRef pool, IActorRef timers)
    {
        _node = node;
        _queue = queue;
        _pool = pool;
        _timers = timers;
        _room = node.Concurrency;
        Log = node.Logging.CreateLogger<QueueConsumer>();
        ReceiveInline<Connect>(_ => ConnectAsync());
        ReceiveInline<Arrived>(arrived => OnArrivedAsync(arrived.Lease, arrived.Delivery), arrived => arrived.Lease == _lease);
        Receive<Arrived>(_ =>
        {
            // From a consumer closed since: the broker has the message back already.
        });
        Receive<PumpFailed>(
            failed => failed.Lease == _lease,
            failed => throw new TransportException($"the consumer of queue '{_queue}' lost its channel: {failed.Cause.Message}", failed.Cause));
        Receive<PumpFailed>(_ => { });
        ReceiveInline<PoolCapacity>(capacity =>
        {
            _room = capacity.Free;
            return AdjustFairWindowAsync();
        });
        ReceiveInline<LeaseSettled>(_ => AdjustFairWindowAsync());
        Receive<StopConsuming>(_ =>
        {
            // Handlers run one at a time, so every earlier delivery has been handed off by now.
            _pumpStop?.Cancel();
            Sender.Tell(ConsumerStopped.Instance, Self);
        });
    }

    protected override void PreStart() => Self.Tell(Connect.Instance, Self);

    protected override void PostStop()
    {
        _pumpStop?.Cancel();
        if (_lease is { } lease)
        {
            _ = lease.CloseAsync();
        }
    }

    private async Task ConnectAsync()
    {
        if (_node.StopConsuming.IsCancellationRequested || _lease is not null)
        {
            return;
        }

        var token = _node.StopConsuming.Token;
        await _node.App.DeclareQueueAsync(_queue, token);
        await DeadLetterQueues.DeclareAsync(_node.App.Transport, _queue, token);
        var prefetch = _node.Fair ? Math.Max(1, _room) : _node.BasePrefetch;
        var consumer = await _node.App.Transport.ConsumeAsync(_queue, new ConsumeOptions(prefetch), token);
        var lease = new QueueLease(consumer, _node.Fair ? 0 : _node.BasePrefetch, Log);
        foreach (var closed in _node.Leases.Keys.Where(l => l.IsClosed && l.CloseAsync().IsCompleted))
        {
            _node.Leases.TryRemove(closed, out _);
        }

        _node.Leases.TryAdd(lease, 0);
        _lease = lease;
        if (_node.Fair)
        {
            var self = SelfRef;
            lease.Settled += () => self.Tell(LeaseSettled.Instance, self);
        }

        _pumpStop = CancellationTokenSource.CreateLinkedTokenSource(token);
        _ = PumpAsync(lease, SelfRef, _pumpStop.Token);
        _pool.Tell(new RegisterConsumer(SelfRef), SelfRef);
        _node.Ready.Connected(_queue);
        Log.LogInformation("Consuming {Queue} with prefetch {Prefetch}", _queue, prefetch);
    }

    /// <summary>Moves deliveries from the broker's channel into this actor's mailbox, one message per delivery.</summary>
    private static async Task PumpAsync(QueueLease lease, IActorRef self, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var delivery in lease.Consumer.Deliveries.ReadAllAsync(cancellationToken))
            {
                lease.OnDelivered();
                self.Tell(new Arrived(lease, delivery), self);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            self.Tell(new PumpFailed(lease, e), self);
        }
    }

    private async Task OnArrivedAsync(QueueLease lease, Delivery delivery)
    {
        if (_node.StopConsuming.IsCancellationRequested || (_node.Fair && _room <= 0))
        {
            // Fair mode reserves only what an idle slot can start; a surplus delivery goes back for an idle node.
            await lease.RejectAsync(delivery, requeue: true);
            await AdjustFairWindowAsync();
            return;
        }

        TaskMessage message;
        try
        {
            message = _node.App.Codec.Decode(delivery.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var id = delivery.Message.Headers.TryGetValue("id", out var header) && header is string text ? text : "";
            await DeadLetterAsync(lease, delivery, id, "", $"undecodable message: {e.Message}");
            return;
        }

        if (!_node.TryGetTask(message.Task, out var definition))
        {
            await RejectUnknownAsync(lease, delivery, message);
            return;
        }

        var now = _node.Time.GetUtcNow();
        if (message.Eta is { } far && far - now > _node.Settings.EtaHorizon)
        {
            await SendBackUntilAsync(lease, delivery, message, far);
            return;
        }

        var request = new TaskRequest(message, definition, delivery, lease, _node.AcksLate(definition));
        if (_node.Revoked.Contains(message.Id))
        {
            await RevokedTasks.DiscardAsync(_node, request, message.IgnoreResult || definition.Options.IgnoreResult);
            return;
        }

        var scheduled = message.Eta is { } eta && eta > now;
        _node.Accepted(request, scheduled);
        _node.Raise(TaskEventKind.Received, message.Id, message.Task, detail: new TaskEventDetail(message));
        if (_node.Fair)
        {
            _room--;
        }

        if (scheduled)
        {
            await lease.HoldEtaAsync();
            _timers.Tell(new Hold(request, message.Eta!.Value, EtaHeld: true, _pool), SelfRef);
            return;
        }

        _pool.Tell(new Reserve(request), SelfRef);
    }

    /// <summary>
    /// A Python client publishes an ETA task at once, with no delayed delivery. Held here it would pin worker memory
    /// and, on a visibility-timeout broker, come back in loops; so it goes back as a delayed message and is acked.
    /// </summary>
    private async Task SendBackUntilAsync(QueueLease lease, Delivery delivery, TaskMessage message, DateTimeOffset eta)
    {
        try
        {
            await _node.App.Transport.PublishAsync("", _queue, delivery.Message, new PublishOptions { NotBefore = eta });
        }
        catch (TransportException e)
        {
            Log.LogWarning(e, "Could not hand {Task}[{TaskId}] back to the broker until its ETA; requeuing it", message.Task, message.Id);
            await lease.RejectAsync(delivery, requeue: true);
            return;
        }

        Log.LogDebug("{Task}[{TaskId}] is due at {Eta}, beyond the ETA horizon; sent back as a delayed message", message.Task, message.Id, eta);
        await lease.AckAsync(delivery);
    }

    private async Task RejectUnknownAsync(QueueLease lease, Delivery delivery, TaskMessage message)
    {
        // Celery stores NotRegistered('name') with no traceback for an unknown task that has an id.
        var info = new ExceptionInfo("NotRegistered", [JsonValue.Create(message.Task)], "celery.exceptions");
        if (!string.IsNullOrEmpty(message.Id) && !message.IgnoreResult)
        {
            await _node.StoreResultAsync(message, TaskResult.Failed(message.Id, info, traceback: null));
        }

        await DeadLetterAsync(lease, delivery, message.Id, message.Task, $"unknown task '{message.Task}': not registered on {_node.Name}", info);
    }

    private async Task DeadLetterAsync(QueueLease lease, Delivery delivery, string id, string name, string reason, ExceptionInfo? info = null)
    {
        Log.LogError("Rejecting a message from {Queue} to {DeadLetterQueue}: {Reason}", _queue, DeadLetterQueues.QueueFor(_queue), reason);
        try
        {
            await DeadLetterQueues.PublishAsync(_node.App.Transport, delivery, reason, CancellationToken.None);
        }
        catch (TransportException e)
        {
            // Without its dead-letter copy, dropping the message would lose it; the broker offers it again instead.
            Log.LogError(e, "Could not dead-letter a message from {Queue}; requeuing it", _queue);
            await lease.RejectAsync(delivery, requeue: true);
            return;
        }

        await lease.AckAsync(delivery);
        _node.Stats.OnRejected();
        _node.Raise(TaskEventKind.Rejected, id, name, exception: info, reason: reason);
    }

    /// <summary>
    /// Fair mode keeps the broker window at what this consumer holds plus the free slots. A window of 0 means "no
    /// limit" to a broker, so when nothing is held and nothing is free the consumer is closed, and opened again later.
    /// </summary>
    private async Task AdjustFairWindowAsync()
    {
        if (!_node.Fair || _node.StopConsuming.IsCancellationRequested)
        {
            return;
        }

        var room = Math.Max(0, _room);
        if (_lease is not { } lease)
        {
            if (room > 0)
            {
                await ConnectAsync();
            }

            return;
        }

        var window = lease.Held + room;
        if (window > 0)
        {
            await lease.SetPrefetchAsync(window);
            return;
        }

        _lease = null;
        _pumpStop?.Cancel();
        await lease.CloseAsync();
        _node.Leases.TryRemove(lease, out _);
    }

    private sealed class Connect
    {
        public static readonly Connect Instance = new();
    }

    private sealed class LeaseSettled
    {
        public static readonly LeaseSettled Instance = new();
    }

    private sealed record Arrived(QueueLease Lease, Delivery Delivery);

    private sealed record PumpFailed(QueueLease Lease, Exception Cause);
}
