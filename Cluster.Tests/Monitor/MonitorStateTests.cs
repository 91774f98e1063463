using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.State;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Monitor;

/// <summary>The monitor's fold against Celery's own <c>State</c> on the events of a real Celery 5.2.6 worker, and its bounds.</summary>
public sealed class MonitorStateTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "monitor");

    [Fact]
    public void Celerys_recorded_events_fold_into_the_same_task_states_names_and_workers_as_celerys_State()
    {
        var state = new MonitorState();
        var events = File.ReadLines(Path.Combine(Folder, "events.jsonl")).Select(line => EventCodec.Decode(JsonNode.Parse(line)!.AsObject())).ToList();
        foreach (var evt in events)
        {
            state.Apply(evt);
        }

        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "expected-state.json")))!;
        var expectedTasks = expected["tasks"]!.AsObject();
        Assert.Equal(263, events.Count);
        Assert.Equal(expectedTasks.Count, state.Tasks(limit: int.MaxValue).Count);
        foreach (var (uuid, want) in expectedTasks)
        {
            var task = state.Task(uuid) ?? throw new Xunit.Sdk.XunitException($"task {uuid} is missing");
            Assert.Equal((uuid, want!["state"]!.GetValue<string>()), (uuid, task.State));
            Assert.Equal(want["name"]?.GetValue<string>(), task.Name);
            Assert.Equal(want["worker"]?.GetValue<string>(), task.Worker);
            Assert.Equal(want["retries"]?.GetValue<int>() ?? 0, task.Retries);
        }

        Assert.Equal(expected["workers"]!.AsObject().Select(w => w.Key).Order(), state.Workers().Select(w => w.Hostname).Order());
        Assert.Equal(events.Count, state.EventCount);
    }

    [Fact]
    public void An_event_that_happened_before_the_current_state_merges_its_fields_but_keeps_the_state()
    {
        var state = new MonitorState();
        state.Apply(new TaskSucceededEvent("t1", "4", 0.5) { Hostname = "w@a", Timestamp = 10 });
        state.Apply(new TaskStartedEvent("t1") { Hostname = "w@a", Timestamp = 9 });
        state.Apply(new TaskReceivedEvent("t1", "tasks.add", "(2, 2)", "{}") { Hostname = "w@a", Timestamp = 8 });

        var task = state.Task("t1")!;
        Assert.Equal(TaskStates.Success, task.State);
        Assert.Equal("tasks.add", task.Name);
        Assert.Equal("(2, 2)", task.Args);
        Assert.Equal("4", task.Result);
        Assert.Equal(0.5, task.Runtime);
        Assert.Equal(10, task.Timestamp);
        var type = Assert.Single(state.TaskTypes());
        Assert.Equal(1L, type.Total);
        Assert.Equal(1L, type.States[TaskStates.Success]);
    }

    [Fact]
    public void A_retry_always_takes_over_since_the_task_runs_again()
    {
        var state = new MonitorState();
        state.Apply(new TaskReceivedEvent("t1", "tasks.flaky", "()", "{}") { Hostname = "w@a", Timestamp = 1 });
        state.Apply(new TaskStartedEvent("t1") { Hostname = "w@a", Timestamp = 2 });
        state.Apply(new TaskRetriedEvent("t1", "RuntimeError('again')", null) { Hostname = "w@a", Timestamp = 3 });
        Assert.Equal(TaskStates.Retry, state.Task("t1")!.State);

        state.Apply(new TaskReceivedEvent("t1", "tasks.flaky", "()", "{}", Retries: 1) { Hostname = "w@b", Timestamp = 4 });

        var task = state.Task("t1")!;
        Assert.Equal(TaskStates.Received, task.State);
        Assert.Equal(1, task.Retries);
        Assert.Equal("w@b", task.Worker);
    }

    [Fact]
    public void Tasks_beyond_max_tasks_evict_the_least_recently_updated_and_per_type_counts_remain()
    {
        var state = new MonitorState(maxTasks: 3);
        foreach (var id in new[] { "a", "b", "c" })
        {
            state.Apply(new TaskReceivedEvent(id, "tasks.add", "()", "{}") { Hostname = "w@a", Timestamp = 1 });
        }

        state.Apply(new TaskStartedEvent("a") { Hostname = "w@a", Timestamp = 2 });
        state.Apply(new TaskReceivedEvent("d", "tasks.add", "()", "{}") { Hostname = "w@a", Timestamp = 3 });

        Assert.Null(state.Task("b"));
        Assert.Equal(["d", "a", "c"], state.Tasks().Select(t => t.Uuid));
        Assert.Equal(["a"], state.Tasks(state: "started").Select(t => t.Uuid));
        var type = Assert.Single(state.TaskTypes());
        Assert.Equal(4L, type.Total);
        Assert.Equal(3L, type.States[TaskStates.Received]);
        Assert.Equal(1L, type.States[TaskStates.Started]);
    }

    [Fact]
    public void Our_nodes_are_alive_by_cluster_membership_and_python_workers_by_heartbeat()
    {
        var state = new MonitorState(isMember: name => name == "ours@a" ? false : null);
        state.Apply(new WorkerEvent(WorkerEvent.Heartbeat) { Hostname = "ours@a", Freq = 2, Timestamp = 1 });
        state.Apply(new WorkerEvent(WorkerEvent.Heartbeat) { Hostname = "celery@py", Freq = 2, Timestamp = 1, SwIdent = "py-celery" });

        var workers = state.Workers().ToDictionary(w => w.Hostname);

        Assert.False(workers["ours@a"].Alive);
        Assert.Equal("cluster", workers["ours@a"].AliveBy);
        Assert.True(workers["celery@py"].Alive);
        Assert.Equal("heartbeat", workers["celery@py"].AliveBy);
    }

    [Fact]
    public void Runtime_percentiles_come_from_the_succeeded_events_of_each_type()
    {
        var state = new MonitorState();
        for (var i = 1; i <= 100; i++)
        {
            var id = $"t{i}";
            state.Apply(new TaskReceivedEvent(id, "tasks.sleep", "()", "{}") { Hostname = "w@a", Timestamp = i });
            state.Apply(new TaskSucceededEvent(id, "None", i / 100.0) { Hostname = "w@a", Timestamp = i });
        }

        var type = Assert.Single(state.TaskTypes());
        Assert.Equal(0.5, type.RuntimeP50);
        Assert.Equal(0.99, type.RuntimeP99);
        Assert.Equal(100L, type.States[TaskStates.Success]);
    }
}
