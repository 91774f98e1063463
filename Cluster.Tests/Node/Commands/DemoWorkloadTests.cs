using ClusterQueue.Node.Demo;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Node.Commands;

public class DemoWorkloadTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(200)]
    [InlineData(1000)]
    public void Workload_HasExactlyTheAskedCount_AndEveryKindOfTask(int count)
    {
        var tasks = DemoWorkload.Create(count);

        Assert.Equal(count, tasks.Count);
        Assert.Contains(tasks, t => t.Name == "tasks.fail" && t.ExpectedState == TaskStates.Failure);
        Assert.Contains(tasks, t => t.Name == "tasks.flaky" && t.ExpectedState == TaskStates.Success);
        Assert.Contains(tasks, t => t.Name is "tasks.add" or "tasks.mul" or "tasks.xsum");
        Assert.Equal(count / 20, tasks.Count(t => t.Options.Countdown is not null));
        Assert.Equal(count / 10, tasks.Count(t => t.Name == DemoWorkload.LimitedTask));
    }

    [Fact]
    public void LimitedBurst_IsOneContiguousBlock()
    {
        var tasks = DemoWorkload.Create(1000);
        var positions = tasks.Select((t, i) => (t, i)).Where(p => p.t.Name == DemoWorkload.LimitedTask).Select(p => p.i).ToList();

        Assert.Equal(100, positions.Count);
        Assert.Equal(positions[0] + positions.Count - 1, positions[^1]);
    }

    [Fact]
    public void Tracker_CountsEachTaskOnce_IgnoresOthers_AndCompletesWhenAllFinished()
    {
        var tracker = new DemoTracker(["a", "b"]);
        TaskLifecycleEvent Event(TaskEventKind kind, string id) =>
            new(kind, id, "tasks.add", TaskLifecycleEvent.StateOf(kind), "n1", DateTimeOffset.UtcNow);

        tracker.OnTaskEvent(Event(TaskEventKind.Retried, "a"));
        tracker.OnTaskEvent(Event(TaskEventKind.Succeeded, "a"));
        tracker.OnTaskEvent(Event(TaskEventKind.Succeeded, "a"));
        tracker.OnTaskEvent(Event(TaskEventKind.Succeeded, "stranger"));
        Assert.Equal((1, 1L, 1L), (tracker.Finished, tracker.Succeeded, tracker.Retries));
        Assert.False(tracker.AllFinished.IsCompleted);

        tracker.OnTaskEvent(Event(TaskEventKind.Failed, "b"));

        Assert.True(tracker.AllFinished.IsCompleted);
        Assert.Equal((2, 1L, 1L), (tracker.Finished, tracker.Succeeded, tracker.Failed));
    }
}
