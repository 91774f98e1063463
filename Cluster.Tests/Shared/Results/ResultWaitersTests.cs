using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

public sealed class ResultWaitersTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private readonly ResultWaiters waiters = new();
    private volatile TaskResult? stored;

    [Fact]
    public async Task Notify_TwoWaitersOnOneTask_BothComplete()
    {
        var first = Wait(Generous);
        var second = Wait(Generous);

        stored = TaskResult.Succeeded("t", 1);
        waiters.Notify("t");

        Assert.Equal(TaskStates.Success, (await first).Status);
        Assert.Equal(TaskStates.Success, (await second).Status);
        Assert.Equal(0, waiters.WatchedTasks);
    }

    [Fact]
    public async Task Notify_NotReadyYet_KeepsWaitingForTheNextOne()
    {
        var waiting = Wait(Generous);

        stored = new TaskResult { TaskId = "t", Status = TaskStates.Started };
        waiters.Notify("t");
        stored = TaskResult.Succeeded("t", 2);
        waiters.Notify("t");

        Assert.Equal(2, (int?)(await waiting).Result);
    }

    [Fact]
    public async Task Timeout_LeavesNoEntryBehind()
    {
        await Assert.ThrowsAsync<TimeoutException>(() => Wait(TimeSpan.FromMilliseconds(20)));

        Assert.Equal(0, waiters.WatchedTasks);
    }

    [Fact]
    public void Notify_NobodyWaiting_DoesNothing()
    {
        waiters.Notify("nobody");

        Assert.Equal(0, waiters.WatchedTasks);
    }

    private Task<TaskResult> Wait(TimeSpan timeout) =>
        waiters.WaitAsync("t", _ => Task.FromResult(stored), timeout, pollInterval: null, TimeProvider.System, CancellationToken.None);
}
