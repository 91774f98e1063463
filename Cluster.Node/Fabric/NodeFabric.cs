using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Membership;
using ClusterQueue.Fabric.Pidbox;
using ClusterQueue.Fabric.Revocation;
using ClusterQueue.Node.Worker;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Fabric;

/// <summary>
/// A worker node's cluster messaging: the app clock, the revoked set, the event dispatcher, the membership view, and
/// once the actor tree runs, the pidbox and the heartbeat. Opened before the node consumes, so revocations learnt
/// through mingle apply to the first task.
/// </summary>
internal sealed class NodeFabric : IAsyncDisposable
{
    private static readonly TimeSpan MinRestartDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(10);

    private readonly string _name;
    private readonly NodeFabricSettings _settings;
    private readonly ITransport _transport;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _membershipFold;
    private EventReceiver _receiver;
    private PidboxNode? _pidbox;
    private ControlHandlerRegistry? _handlers;
    private Task _pidboxSupervision = Task.CompletedTask;
    private WorkerHeartbeat? _heartbeat;
    private int _disposed;

    private NodeFabric(string name, NodeFabricSettings settings, ITransport transport, RevokedTaskSet revoked, EventDispatcher events, EventReceiver receiver, LamportClock clock, ILoggerFactory logging)
    {
        _name = name;
        _settings = settings;
        _transport = transport;
        _logging = logging;
        _log = logging.CreateLogger("ClusterQueue.Node.Fabric");
        Revoked = revoked;
        Events = events;
        Clock = clock;
        _receiver = receiver;
        _membershipFold = Task.Run(() => FoldMembershipAsync(_stopping.Token));
    }

    /// <summary>The app clock, shared by events, mingle and the <c>clock</c> command.</summary>
    public LamportClock Clock { get; }

    public RevokedTaskSet Revoked { get; }

    public EventDispatcher Events { get; }

    /// <summary>The cluster as this node sees it from the worker events of <c>worker.#</c>.</summary>
    public ClusterMembership Membership { get; } = new();

    /// <summary>Peers that answered mingle's hello at start-up.</summary>
    public int MinglePeers { get; private set; }

    /// <summary>
    /// Opens the revoked set from the state db, starts the dispatcher and the membership receiver, refuses a name a
    /// live node uses, and runs mingle.
    /// </summary>
    /// <exception cref="NodeNameInUseException">A live node answered under this node's name.</exception>
    public static async Task<NodeFabric> OpenAsync(string name, WorkerSettings settings, ITransport transport, ILoggerFactory logging, CancellationToken cancellationToken)
    {
        var fabric = settings.Fabric;
        var clock = new LamportClock();
        var store = string.IsNullOrWhiteSpace(settings.StateDb) ? null : new SqliteRevocationStore(settings.StateDb);
        var revoked = new RevokedTaskSet(fabric.Revocation, store);
        var events = new EventDispatcher(
            transport,
            name,
            clock,
            fabric.Events,
            new EventDispatcherOptions { BatchTaskEvents = true },
            logger: logging.CreateLogger("ClusterQueue.Node.Fabric.Events"));
        events.TaskEventsEnabled = settings.SendTaskEvents || fabric.Events.Enabled;
        var receiver = NewReceiver(transport, fabric, clock, logging);
        var node = new NodeFabric(name, fabric, transport, revoked, events, receiver, clock, logging);
        try
        {
            await events.StartAsync(cancellationToken).ConfigureAwait(false);
            await receiver.StartAsync(cancellationToken).ConfigureAwait(false);
            await node.GreetAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts answering remote control and sends worker-online, then a heartbeat every interval.</summary>
    public async Task StartControlAsync(ControlHandlerRegistry handlers, Func<WorkerLoad> load, CancellationToken cancellationToken)
    {
        _handlers = handlers;
        _pidbox = await StartPidboxAsync(cancellationToken).ConfigureAwait(false);
        _pidboxSupervision = Task.Run(() => KeepPidboxAsync(_stopping.Token));
        _heartbeat = new WorkerHeartbeat(Events, load, _settings.Events.HeartbeatInterval, logger: _log);
        await _heartbeat.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops answering remote control; called first at shutdown, as Celery closes its mailbox first.</summary>
    public async Task StopControlAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _pidboxSupervision.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _pidbox, null) is { } pidbox)
        {
            await pidbox.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the mailbox and the heartbeat (sending worker-offline), flushes buffered events, closes the state db.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopControlAsync().ConfigureAwait(false);
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        await Events.DisposeAsync().ConfigureAwait(false);
        await _membershipFold.ConfigureAwait(false);
        await _receiver.DisposeAsync().ConfigureAwait(false);
        Revoked.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Mingle's hello doubles as the name check: every live node answers, so an answer under our own name means the
    /// name is taken. Without mingle, a ping to our own name does the same within <see cref="NodeFabricSettings.NameCheckWindow"/>.
    /// </summary>
    private async Task GreetAsync(CancellationToken cancellationToken)
    {
        var mingle = _settings.Mingle.Enabled;
        if (!mingle && _settings.NameCheckWindow <= TimeSpan.Zero)
        {
            return;
        }

        await using var client = new ControlClient(_transport, _settings.Control, logger: _log);
        if (mingle)
        {
            var outcome = await MingleSync.HelloAsync(client, _name, Revoked, Clock, _settings.Mingle, _log, cancellationToken).ConfigureAwait(false);
            if (outcome.NameAnswered && _settings.NameCheckWindow > TimeSpan.Zero)
            {
                throw new NodeNameInUseException(_name);
            }

            MinglePeers = outcome.Peers;
            _log.LogInformation(outcome.Peers == 0 ? "mingle: all alone" : "mingle: synced with {Peers} nodes", outcome.Peers);
        }
        else
        {
            var pong = await client.PingAsync(ControlTarget.Nodes(_name), _settings.NameCheckWindow, limit: 1, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (pong.Count > 0)
            {
                throw new NodeNameInUseException(_name);
            }
        }

        // A heartbeat heard meanwhile counts too, for a node whose mailbox is busy or slow.
        Membership.EnsureNameAvailable(_name);
    }

    private static EventReceiver NewReceiver(ITransport transport, NodeFabricSettings settings, LamportClock clock, ILoggerFactory logging) =>
        // The gossip queue shape of a Celery worker: every worker event, none of the task events.
        new(transport, "worker.#", settings.Events, clock, logger: logging.CreateLogger("ClusterQueue.Node.Fabric.Membership"));

    private async Task<PidboxNode> StartPidboxAsync(CancellationToken cancellationToken)
    {
        var pidbox = new PidboxNode(_transport, _name, _handlers!, _settings.Control, Clock, _logging.CreateLogger("ClusterQueue.Node.Fabric.Pidbox"));
        try
        {
            await pidbox.StartAsync(cancellationToken).ConfigureAwait(false);
            return pidbox;
        }
        catch
        {
            await pidbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A mailbox whose broker connection was lost is replaced, with backoff, as Celery's consumer restarts its pidbox on reconnect.</summary>
    private async Task KeepPidboxAsync(CancellationToken stopping)
    {
        while (_pidbox is { } current)
        {
            try
            {
                await current.Completion.WaitAsync(stopping).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (TransportException e)
            {
                _log.LogWarning(e, "{Node}: the mailbox lost its broker connection; starting it again", _name);
            }

            await current.DisposeAsync().ConfigureAwait(false);
            var next = await RestartAsync(StartPidboxAsync, "mailbox", stopping).ConfigureAwait(false);
            if (next is null)
            {
                return;
            }

            _pidbox = next;
        }
    }

    /// <summary>Folds worker events into the membership view; a receiver that lost its broker connection is replaced, with backoff.</summary>
    private async Task FoldMembershipAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await foreach (var received in _receiver.Events.ReadAllAsync(stopping).ConfigureAwait(false))
                {
                    Membership.Apply(received);
                }

                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (TransportException e)
            {
                _log.LogWarning(e, "{Node}: the membership receiver lost its broker connection; starting it again", _name);
            }

            await _receiver.DisposeAsync().ConfigureAwait(false);
            var next = await RestartAsync(
                async token =>
                {
                    var receiver = NewReceiver(_transport, _settings, Clock, _logging);
                    await receiver.StartAsync(token).ConfigureAwait(false);
                    return receiver;
                },
                "membership receiver",
                stopping).ConfigureAwait(false);
            if (next is null)
            {
                return;
            }

            _receiver = next;
        }
    }

    /// <summary>Starts something again until it works, doubling the delay up to 10 s; null once the node stops.</summary>
    private async Task<T?> RestartAsync<T>(Func<CancellationToken, Task<T>> start, string what, CancellationToken stopping)
        where T : class
    {
        var delay = MinRestartDelay;
        while (true)
        {
            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
                return await start(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
            catch (TransportException e)
            {
                _log.LogWarning("{Node}: could not start the {What} again: {Problem}", _name, what, e.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
            }
        }
    }
}
