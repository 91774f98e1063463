using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Stream;

namespace ClusterQueue.Tests.Monitor;

/// <summary>The monitor's fan-out: filters, resume from the ring, and a slow subscriber dropped without stalling the others.</summary>
public sealed class EventHubTests
{
    private static TaskEvent Started(string id) => new TaskStartedEvent(id) { Hostname = "w@a", Timestamp = 1 };

    [Fact]
    public void A_subscriber_that_never_reads_is_dropped_with_the_reason_and_publishing_never_waits_for_it()
    {
        var hub = new EventHub(bufferSize: 100, subscriberCapacity: 10);
        using var slow = hub.Subscribe(EventFilter.All);
        using var fast = hub.Subscribe(EventFilter.All);
        var received = 0;

        for (var i = 0; i < 1_000; i++)
        {
            hub.Publish(Started($"t{i}"));
            while (fast.Events.TryRead(out _))
            {
                received++;
            }
        }

        Assert.Equal(1_000, received);
        Assert.Equal(1L, hub.DroppedCount);
        Assert.Equal(1, hub.SubscriberCount);
        Assert.Contains("too slow: 10 events behind", slow.CloseReason, StringComparison.Ordinal);
        Assert.Contains("Last-Event-ID 10", slow.CloseReason, StringComparison.Ordinal);
        Assert.Equal(10, slow.Events.Count);
    }

    [Fact]
    public void Filters_match_type_prefixes_worker_and_task_names_looked_up_for_events_without_one()
    {
        var names = new Dictionary<string, string> { ["t1"] = "tasks.add", ["t2"] = "tasks.mul" };
        var hub = new EventHub(nameOf: id => names.GetValueOrDefault(id));
        using var adds = hub.Subscribe(new EventFilter(TaskName: "tasks.add"));
        using var tasks = hub.Subscribe(new EventFilter(Types: ["task-"], Worker: "w@a"));

        hub.Publish(new TaskReceivedEvent("t1", "tasks.add", "()", "{}") { Hostname = "w@a" });
        hub.Publish(Started("t2"));
        hub.Publish(new TaskSucceededEvent("t1", "4", 0.1) { Hostname = "w@b" });
        hub.Publish(new WorkerEvent(WorkerEvent.Heartbeat) { Hostname = "w@a" });

        Assert.Equal(["task-received", "task-succeeded"], Drain(adds).Select(e => e.Event.Type));
        Assert.Equal(["task-received", "task-started"], Drain(tasks).Select(e => e.Event.Type));
    }

    [Fact]
    public void A_resuming_subscriber_gets_what_came_after_its_last_event_and_is_told_what_the_ring_lost()
    {
        var hub = new EventHub(bufferSize: 5);
        for (var i = 1; i <= 8; i++)
        {
            hub.Publish(Started($"t{i}"));
        }

        using var recent = hub.Subscribe(EventFilter.All, afterId: 6);
        using var late = hub.Subscribe(EventFilter.All, afterId: 1);

        Assert.Equal([7L, 8L], Drain(recent).Select(e => e.Id));
        Assert.Equal(0L, recent.Missed);
        Assert.Equal([4L, 5L, 6L, 7L, 8L], Drain(late).Select(e => e.Id));
        Assert.Equal(2L, late.Missed);
    }

    private static List<MonitorEvent> Drain(EventHub.Subscription subscription)
    {
        var events = new List<MonitorEvent>();
        while (subscription.Events.TryRead(out var evt))
        {
            events.Add(evt);
        }

        return events;
    }
}
