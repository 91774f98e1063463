using System.Threading.Channels;
using ClusterQueue.Fabric.Events;

namespace ClusterQueue.Monitor.Stream;

/// <summary>An event as the monitor serves it: numbered in arrival order, so a subscriber can resume after the last one it saw.</summary>
public sealed record MonitorEvent(long Id, ClusterEvent Event);

/// <summary>Which events a subscriber wants: event types (<c>task-failed</c>, or a prefix such as <c>task-</c>), a task name, a worker.</summary>
public sealed record EventFilter(IReadOnlyList<string>? Types = null, string? TaskName = null, string? Worker = null)
{
    public static readonly EventFilter All = new();

    /// <param name="nameOf">The task name of an event that does not carry one (task-started, task-succeeded...).</param>
    public bool Matches(ClusterEvent evt, Func<string, string?> nameOf)
    {
        if (Types is { Count: > 0 } types && !types.Any(t => t.EndsWith('-') ? evt.Type.StartsWith(t, StringComparison.Ordinal) : evt.Type == t))
        {
            return false;
        }

        if (Worker is not null && evt.Hostname != Worker)
        {
            return false;
        }

        if (TaskName is null)
        {
            return true;
        }

        return evt switch
        {
            TaskReceivedEvent r => r.Name == TaskName,
            TaskSentEvent s => s.Name == TaskName,
            TaskEvent t => nameOf(t.Uuid) == TaskName,
            _ => false,
        };
    }
}

/// <summary>
/// Fans the event stream out to subscribers without ever waiting for one: each has a bounded queue, and one that falls
/// that far behind is dropped with the reason, so a slow client never stalls ingest. The latest events are kept in a
/// ring for subscribers that resume (SSE's <c>Last-Event-ID</c>).
/// </summary>
public sealed class EventHub
{
    private readonly Lock gate = new();
    private readonly MonitorEvent?[] ring;
    private readonly int subscriberCapacity;
    private readonly Func<string, string?> nameOf;
    private readonly List<Subscription> subscribers = [];
    private long lastId;
    private long dropped;

    /// <param name="bufferSize">Events kept for resuming subscribers.</param>
    /// <param name="subscriberCapacity">Events a subscriber may fall behind before it is dropped.</param>
    /// <param name="nameOf">Task name by id, for filters on events that do not carry the name.</param>
    public EventHub(int bufferSize = 10_000, int subscriberCapacity = 1_000, Func<string, string?>? nameOf = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(subscriberCapacity, 1);
        ring = new MonitorEvent?[bufferSize];
        this.subscriberCapacity = subscriberCapacity;
        this.nameOf = nameOf ?? (_ => null);
    }

    /// <summary>Subscribers dropped for falling behind.</summary>
    public long DroppedCount => Interlocked.Read(ref dropped);

    public int SubscriberCount
    {
        get
        {
            lock (gate)
            {
                return subscribers.Count;
            }
        }
    }

    public long LastId => Interlocked.Read(ref lastId);

    public MonitorEvent Publish(ClusterEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        lock (gate)
        {
            var numbered = new MonitorEvent(++lastId, evt);
            ring[numbered.Id % ring.Length] = numbered;
            for (var i = subscribers.Count - 1; i >= 0; i--)
            {
                var subscriber = subscribers[i];
                if (subscriber.Filter.Matches(evt, nameOf) && !subscriber.Offer(numbered))
                {
                    subscribers.RemoveAt(i);
                    dropped++;
                    subscriber.Close($"too slow: {subscriberCapacity} events behind; reconnect with Last-Event-ID {subscriber.LastDelivered} to resume");
                }
            }

            return numbered;
        }
    }

    /// <summary>
    /// Subscribes to events after <paramref name="afterId"/> (0 for only new ones). Buffered events after it come first;
    /// when the ring no longer holds them all, <see cref="Subscription.Missed"/> says how many were lost.
    /// </summary>
    public Subscription Subscribe(EventFilter filter, long afterId = 0)
    {
        ArgumentNullException.ThrowIfNull(filter);
        lock (gate)
        {
            var subscription = new Subscription(this, filter, subscriberCapacity);
            if (afterId > 0 && afterId < lastId)
            {
                var oldest = Math.Max(afterId + 1, lastId - ring.Length + 1);
                subscription.Missed = oldest - (afterId + 1);
                for (var id = oldest; id <= lastId; id++)
                {
                    if (ring[id % ring.Length] is { } buffered && buffered.Id == id && filter.Matches(buffered.Event, nameOf))
                    {
                        subscription.Offer(buffered);
                    }
                }
            }

            subscribers.Add(subscription);
            return subscription;
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (gate)
        {
            subscribers.Remove(subscription);
        }
    }

    /// <summary>One subscriber's queue; disposing it unsubscribes.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly EventHub hub;
        private readonly Channel<MonitorEvent> queue;

        internal Subscription(EventHub hub, EventFilter filter, int capacity)
        {
            this.hub = hub;
            Filter = filter;
            queue = Channel.CreateBounded<MonitorEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        }

        public EventFilter Filter { get; }

        /// <summary>Events the resume point asked for that the ring no longer held.</summary>
        public long Missed { get; internal set; }

        /// <summary>Why the hub closed this subscription; null while it is open or when the subscriber left.</summary>
        public string? CloseReason { get; private set; }

        /// <summary>The id of the last event queued for this subscriber.</summary>
        public long LastDelivered { get; private set; }

        public ChannelReader<MonitorEvent> Events => queue.Reader;

        public void Dispose()
        {
            hub.Remove(this);
            queue.Writer.TryComplete();
        }

        internal bool Offer(MonitorEvent evt)
        {
            if (!queue.Writer.TryWrite(evt))
            {
                return false;
            }

            LastDelivered = evt.Id;
            return true;
        }

        internal void Close(string reason)
        {
            CloseReason = reason;
            queue.Writer.TryComplete();
        }
    }
}
