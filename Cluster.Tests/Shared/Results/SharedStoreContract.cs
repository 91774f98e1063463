using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

/// <summary>
/// What only a store shared by several processes shows, for every SQL backend; each second backend instance stands
/// in for another process.
/// </summary>
public abstract class SharedStoreContract : BackendTestBase
{
    /// <summary>Rows in <c>celery_taskmeta</c>, read past the backend.</summary>
    protected abstract long CountRows();

    [Fact]
    public async Task Wait_ResultStoredByAnotherInstance_CompletesByPolling()
    {
        var client = Open();
        var worker = Open();
        var waiting = client.WaitAsync("t-x", Generous);

        await worker.StoreAsync(new TaskResult { TaskId = "t-x", Status = TaskStates.Started });
        await worker.StoreAsync(TaskResult.Succeeded("t-x", 42));

        var result = await waiting;
        Assert.Equal(42, (int?)result.Result);
    }

    [Fact]
    public async Task Store_LateStateFromAnotherInstance_IsIgnored()
    {
        var first = Open();
        var second = Open();
        await first.StoreAsync(TaskResult.Succeeded("t-y", 1));

        Assert.False(await second.StoreAsync(new TaskResult { TaskId = "t-y", Status = TaskStates.Started }));
        Assert.Equal(TaskStates.Success, (await first.GetAsync("t-y"))!.Status);
    }

    [Fact]
    public async Task Store_ConcurrentWritersInSeveralInstances_LosesNothing()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => Open()).ToList();

        await Task.WhenAll(instances.Select((backend, n) => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await backend.StoreAsync(TaskResult.Succeeded($"p{n}-{i}", i));
            }
        })));

        Assert.Equal(200, CountRows());
        Assert.Equal(49, (int?)(await instances[0].GetAsync("p3-49"))!.Result);
    }

    [Fact]
    public async Task Reopen_KeepsStoredResults()
    {
        await Backend.StoreAsync(ResultFixtures.Failure("t-keep"));
        await Backend.DisposeAsync();

        var reopened = Open();

        Assert.Equal(TaskStates.Failure, (await reopened.GetAsync("t-keep"))!.Status);
    }

    [Fact]
    public async Task RestoreGroup_SavedByAnotherInstance_ReturnsItsMembers()
    {
        var client = Open();
        var worker = Open();

        await client.SaveGroupAsync("g-shared", ["x", "y"]);

        Assert.Equal(["x", "y"], await worker.RestoreGroupAsync("g-shared"));
        Assert.True(await worker.ForgetGroupAsync("g-shared"));
        Assert.Null(await client.RestoreGroupAsync("g-shared"));
    }

    [Fact]
    public async Task ChordPartReturn_ThousandMembersEachTwiceFromTwoInstances_ExactlyOneTrue()
    {
        var first = Open();
        var second = Open();
        var members = Enumerable.Range(0, 1000).Select(i => $"part-{i}").ToList();
        await first.SaveGroupAsync("g-thousand", members);

        // Every member returns once through each instance, as when a redelivered task finishes in a second worker;
        // the two instances' calls for the same member race each other.
        var fired = await ChordCalls.ReturnAllAsync("g-thousand", members.SelectMany(id => new[] { (first, id), (second, id) }));

        Assert.Equal(2000, fired.Length);
        Assert.Single(fired, f => f);
        Assert.False(await second.ChordPartReturnAsync("g-thousand", "part-0"));
    }
}
