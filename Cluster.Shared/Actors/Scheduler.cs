using System.Collections.Concurrent;

namespace ClusterQueue.Actors;

/// <summary>A scheduled delivery that can be cancelled; disposing cancels too.</summary>
public interface ICancelable : IDisposable
{
    bool IsCancellationRequested { get; }

    /// <summary>Stops further deliveries; after it returns no new message is told.</summary>
    void Cancel();
}

/// <summary>Tells messages later or periodically, with <see cref="ICancelable"/> handles; all cancelled when the system terminates.</summary>
public sealed class Scheduler
{
    private readonly ConcurrentDictionary<ScheduledTell, byte> _active = new();
    private volatile bool _shutDown;

    public ICancelable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender) =>
        Schedule(delay, Timeout.InfiniteTimeSpan, receiver, message, sender);

    public ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "A repeat interval must be positive.");
        }

        return Schedule(initialDelay, interval, receiver, message, sender);
    }

    internal void Shutdown()
    {
        _shutDown = true;
        foreach (var scheduled in _active.Keys)
        {
            scheduled.Cancel();
        }
    }

    private ScheduledTell Schedule(TimeSpan delay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "A delay cannot be negative.");
        }

        if (_shutDown)
        {
            throw new InvalidOperationException($"The scheduler is shut down; cannot schedule {message.GetType().Name} to {receiver.Path}.");
        }

        var scheduled = new ScheduledTell(this, receiver, message, sender, interval == Timeout.InfiniteTimeSpan);
        _active.TryAdd(scheduled, 0);
        scheduled.Start(delay, interval);
        return scheduled;
    }

    private sealed class ScheduledTell(Scheduler owner, IActorRef receiver, object message, IActorRef? sender, bool once) : ICancelable
    {
        private readonly Lock _gate = new();
        private Timer? _timer;
        private bool _cancelled;

        public bool IsCancellationRequested
        {
            get
            {
                lock (_gate)
                {
                    return _cancelled;
                }
            }
        }

        public void Start(TimeSpan delay, TimeSpan interval)
        {
            lock (_gate)
            {
                _timer = new Timer(static state => ((ScheduledTell)state!).Fire(), this, delay, interval);
            }
        }

        public void Cancel()
        {
            lock (_gate)
            {
                if (_cancelled)
                {
                    return;
                }

                _cancelled = true;
                _timer?.Dispose();
            }

            owner._active.TryRemove(this, out _);
        }

        public void Dispose() => Cancel();

        private void Fire()
        {
            // Telling under the lock means that once Cancel returns, no tick is half-way into a mailbox.
            lock (_gate)
            {
                if (_cancelled)
                {
                    return;
                }

                receiver.Tell(message, sender);
            }

            if (once)
            {
                Cancel();
            }
        }
    }
}
