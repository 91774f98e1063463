using System.Text.Json.Nodes;
using ClusterQueue.Results;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Results;

/// <summary>Behaviour every result backend shares; run once per backend by the subclasses below.</summary>
public abstract class ResultBackendContract : BackendTestBase
{
    public static TheoryData<string> AllStates => new(
        TaskStates.Pending, TaskStates.Received, TaskStates.Started, TaskStates.Success,
        TaskStates.Failure, TaskStates.Retry, TaskStates.Revoked, TaskStates.Rejected, "PROGRESS");

    [Fact]
    public async Task Get_UnknownTask_ReturnsNull()
    {
        Assert.Null(await Backend.GetAsync("never-sent"));
    }

    [Fact]
    public async Task GetResults_ReturnsEachInTheOrderAsked_WithNullForTheUnknown()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("m-a", 1));
        await Backend.StoreAsync(TaskResult.Failed("m-b", new ExceptionInfo("E", [], null), null));

        var results = await Backend.GetResultsAsync(["m-b", "never-sent", "m-a"]);

        Assert.Equal([TaskStates.Failure, null, TaskStates.Success], results.Select(r => r?.Status));
        Assert.Equal(1, (int?)results[2]!.Result);
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public async Task Store_AnyState_ReadsBackTheSameMeta(string state)
    {
        var stored = new TaskResult
        {
            TaskId = "t-" + state,
            Status = state,
            Result = new JsonObject { ["exc_type"] = "E", ["exc_message"] = new JsonArray("m"), ["exc_module"] = "tasks" },
            Traceback = state == TaskStates.Failure ? "Traceback\n" : null,
            Children = JsonNode.Parse("""[[["c1", null], null]]"""),
            DateDone = new DateTime(2026, 11, 21, 9, 0, 0, DateTimeKind.Utc),
            Name = "tasks.x",
            Args = new JsonArray(1, "two"),
            Kwargs = new JsonObject { ["k"] = null },
            Worker = "celery@vm",
            Retries = 3,
            Queue = "q",
        };

        Assert.True(await Backend.StoreAsync(stored));
        var read = await Backend.GetAsync(stored.TaskId);

        Assert.NotNull(read);
        Assert.Equal(TaskResultJson.Serialize(stored), TaskResultJson.Serialize(read));
        Assert.Equal(TaskStates.IsReady(state), read.IsReady);
    }

    [Theory]
    [InlineData("", TaskStates.Success, "TaskId")]
    [InlineData("t-empty", "", "Status")]
    public async Task Store_MissingIdOrStatus_ThrowsNamingTheField(string taskId, string status, string field)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Backend.StoreAsync(new TaskResult { TaskId = taskId, Status = status }));

        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public async Task Store_NullReturnValue_ReadsBackAsJsonNull()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-null", null));

        var read = await Backend.GetAsync("t-null");

        Assert.Null(read!.Result);
        Assert.Contains("\"result\":null", TaskResultJson.Serialize(read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_WithoutDateDone_StampsNowFromTheClock()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-date", 4));

        var read = await Backend.GetAsync("t-date");

        Assert.Equal(Clock.GetUtcNow().UtcDateTime, read!.DateDone);
        Assert.Equal("2026-11-21T09:35:45.586688", (string?)JsonNode.Parse(TaskResultJson.Serialize(read))!["date_done"]);
    }

    [Theory]
    [InlineData(TaskStates.Success, TaskStates.Started)]
    [InlineData(TaskStates.Success, TaskStates.Retry)]
    [InlineData(TaskStates.Success, TaskStates.Pending)]
    [InlineData(TaskStates.Success, TaskStates.Failure)]
    [InlineData(TaskStates.Success, TaskStates.Revoked)]
    [InlineData(TaskStates.Failure, TaskStates.Started)]
    [InlineData(TaskStates.Failure, TaskStates.Revoked)]
    [InlineData(TaskStates.Revoked, TaskStates.Received)]
    [InlineData(TaskStates.Revoked, TaskStates.Started)]
    [InlineData(TaskStates.Revoked, "PROGRESS")]
    public async Task Store_LowerPrecedenceAfterReady_IsIgnored(string ready, string late)
    {
        var final = new TaskResult { TaskId = "t-p", Status = ready, Result = 1 };
        await Backend.StoreAsync(final);

        var accepted = await Backend.StoreAsync(new TaskResult { TaskId = "t-p", Status = late, Result = 2 });

        Assert.False(accepted);
        var read = await Backend.GetAsync("t-p");
        Assert.Equal(ready, read!.Status);
        Assert.Equal(1, (int?)read.Result);
    }

    [Theory]
    [InlineData(TaskStates.Failure, TaskStates.Failure)]
    [InlineData(TaskStates.Failure, TaskStates.Success)]
    [InlineData(TaskStates.Revoked, TaskStates.Failure)]
    [InlineData(TaskStates.Started, TaskStates.Retry)]
    [InlineData(TaskStates.Retry, TaskStates.Started)]
    [InlineData(TaskStates.Started, TaskStates.Pending)]
    public async Task Store_EqualOrHigherPrecedenceOrOverUnready_Replaces(string first, string second)
    {
        await Backend.StoreAsync(new TaskResult { TaskId = "t-r", Status = first, Result = 1 });

        var accepted = await Backend.StoreAsync(new TaskResult { TaskId = "t-r", Status = second, Result = 2 });

        Assert.True(accepted);
        var read = await Backend.GetAsync("t-r");
        Assert.Equal(second, read!.Status);
        Assert.Equal(2, (int?)read.Result);
    }

    [Fact]
    public void Store_AnySequenceOfStates_EndsAtTheLastStateOrTheHighestReadyOne()
    {
        string[] states = [TaskStates.Pending, TaskStates.Received, TaskStates.Started, TaskStates.Retry, TaskStates.Rejected,
            "PROGRESS", TaskStates.Success, TaskStates.Failure, TaskStates.Revoked];
        var sequences = Gen.Elements(states).NonEmptyListOf().Select(list => list.ToArray()).ToArbitrary();
        var run = 0;

        var property = Prop.ForAll(sequences, sequence =>
        {
            var taskId = "seq-" + Interlocked.Increment(ref run);
            foreach (var state in sequence)
            {
                Backend.StoreAsync(new TaskResult { TaskId = taskId, Status = state }).GetAwaiter().GetResult();
            }

            var final = Backend.GetAsync(taskId).GetAwaiter().GetResult()!.Status;
            var ready = sequence.Where(TaskStates.IsReady).ToList();
            return ready.Count == 0
                ? final == sequence[^1]
                : TaskStates.IsReady(final) && TaskStates.Precedence(final) == ready.Max(TaskStates.Precedence);
        });

        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public async Task Store_RetryCycleThenSuccess_EndsSuccessful()
    {
        string[] sequence = [TaskStates.Started, TaskStates.Retry, TaskStates.Started, TaskStates.Success, TaskStates.Started];
        foreach (var state in sequence)
        {
            await Backend.StoreAsync(new TaskResult { TaskId = "t-cycle", Status = state });
        }

        Assert.Equal(TaskStates.Success, (await Backend.GetAsync("t-cycle"))!.Status);
    }

    /// <summary>
    /// False for a store that, like Celery's file backend, keeps an expired result readable until a sweep deletes it;
    /// the expiry tests then sweep where the others see the result gone at once.
    /// </summary>
    protected virtual bool HidesExpired => true;

    [Fact]
    public async Task Get_AtExpiry_ReturnsNull_OnceSweptWhereExpiredResultsStayReadable()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-exp", 1));

        Clock.Advance(Settings.Expires - TimeSpan.FromSeconds(1));
        Assert.NotNull(await Backend.GetAsync("t-exp"));
        Clock.Advance(TimeSpan.FromSeconds(1));
        await SweepUnlessExpiredIsHiddenAsync(expected: 1, stillReadable: () => Backend.GetAsync("t-exp"));
        Assert.Null(await Backend.GetAsync("t-exp"));
    }

    [Fact]
    public async Task SweepExpired_DeletesOnlyExpiredAndCountsThem()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("old-1", 1));
        await Backend.StoreAsync(TaskResult.Succeeded("old-2", 2));
        Clock.Advance(TimeSpan.FromHours(12));
        await Backend.StoreAsync(TaskResult.Succeeded("young", 3));
        Clock.Advance(TimeSpan.FromHours(12));

        Assert.Equal(2, await Backend.SweepExpiredAsync(Clock.GetUtcNow()));
        Assert.Equal(0, await Backend.SweepExpiredAsync(Clock.GetUtcNow()));
        Assert.NotNull(await Backend.GetAsync("young"));
        Assert.False(await Backend.ForgetAsync("old-1"));
    }

    [Fact]
    public async Task Store_OverExpiredReadyResult_IsAcceptedAsFresh()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-reuse", 1));
        Clock.Advance(Settings.Expires);
        await SweepUnlessExpiredIsHiddenAsync(expected: 1, stillReadable: () => Backend.GetAsync("t-reuse"));

        Assert.True(await Backend.StoreAsync(new TaskResult { TaskId = "t-reuse", Status = TaskStates.Started }));
        Assert.Equal(TaskStates.Started, (await Backend.GetAsync("t-reuse"))!.Status);
    }

    [Fact]
    public async Task Forget_RemovesResultOnce()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-f", 1));

        Assert.True(await Backend.ForgetAsync("t-f"));
        Assert.Null(await Backend.GetAsync("t-f"));
        Assert.False(await Backend.ForgetAsync("t-f"));
        Assert.True(await Backend.StoreAsync(new TaskResult { TaskId = "t-f", Status = TaskStates.Started }));
    }

    [Fact]
    public async Task Wait_ReadyLater_CompletesWithTheReadyResult()
    {
        var waiting = Backend.WaitAsync("t-w", Generous);

        await Backend.StoreAsync(new TaskResult { TaskId = "t-w", Status = TaskStates.Started });
        Assert.False(waiting.IsCompleted);
        await Backend.StoreAsync(TaskResult.Succeeded("t-w", 4));

        var result = await waiting;
        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(4, (int?)result.Result);
    }

    [Fact]
    public async Task Wait_AlreadyReady_ReturnsIt()
    {
        await Backend.StoreAsync(TaskResult.Revoked("t-done", "revoked"));

        Assert.Equal(TaskStates.Revoked, (await Backend.WaitAsync("t-done", Generous)).Status);
    }

    [Fact]
    public async Task Wait_NeverReady_ThrowsTimeoutNamingTaskAndTimeout()
    {
        await Backend.StoreAsync(new TaskResult { TaskId = "t-slow", Status = TaskStates.Started });

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Backend.WaitAsync("t-slow", TimeSpan.FromMilliseconds(50)));

        Assert.Contains("t-slow", error.Message, StringComparison.Ordinal);
        Assert.Contains("00:00:00.05", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_Cancelled_ThrowsOperationCanceled()
    {
        using var cancel = new CancellationTokenSource();
        var waiting = Backend.WaitAsync("t-cancel", timeout: null, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Store_ManyConcurrentWriters_LosesNothing()
    {
        const int writers = 8;
        const int perWriter = 40;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                await Backend.StoreAsync(TaskResult.Succeeded($"w{w}-{i}", w * 1000 + i));
            }
        })));

        for (var w = 0; w < writers; w++)
        {
            for (var i = 0; i < perWriter; i++)
            {
                Assert.Equal(w * 1000 + i, (int?)(await Backend.GetAsync($"w{w}-{i}"))!.Result);
            }
        }
    }

    [Fact]
    public async Task Store_ConcurrentStatesForOneTask_HighestReadyStateWins()
    {
        string[] states = [TaskStates.Received, TaskStates.Started, TaskStates.Retry, TaskStates.Failure, TaskStates.Success, TaskStates.Revoked];

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() =>
            Backend.StoreAsync(new TaskResult { TaskId = "t-race", Status = states[i % states.Length] }))));

        Assert.Equal(TaskStates.Success, (await Backend.GetAsync("t-race"))!.Status);
    }

    [Fact]
    public async Task Sweeper_Running_DeletesExpiredResults()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-sweep", 1));
        Clock.Advance(Settings.Expires);
        var sweeper = new ResultSweeper(Backend, TimeSpan.FromMilliseconds(10), Clock);
        var deleted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        sweeper.Swept += count =>
        {
            if (count > 0)
            {
                deleted.TrySetResult(count);
            }
        };
        using var stop = new CancellationTokenSource();

        var running = sweeper.RunAsync(stop.Token);
        var count = await deleted.Task.WaitAsync(Generous);
        await stop.CancelAsync();
        await running.WaitAsync(Generous);

        Assert.Equal(1, count);
        Assert.False(await Backend.ForgetAsync("t-sweep"));
    }

    [Fact]
    public async Task Sweeper_SweepOnce_ReturnsCount()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("a", 1));
        await Backend.StoreAsync(TaskResult.Succeeded("b", 1));
        Clock.Advance(Settings.Expires + TimeSpan.FromMinutes(1));

        Assert.Equal(2, await new ResultSweeper(Backend, TimeSpan.FromHours(1), Clock).SweepOnceAsync());
    }

    [Fact]
    public async Task RestoreGroup_Saved_ReturnsTheMembersInOrder()
    {
        await Backend.SaveGroupAsync("g-order", ["m3", "m1", "m2"]);

        Assert.Equal(["m3", "m1", "m2"], await Backend.RestoreGroupAsync("g-order"));
    }

    [Fact]
    public async Task RestoreGroup_Unknown_ReturnsNull()
    {
        Assert.Null(await Backend.RestoreGroupAsync("g-never"));
    }

    [Fact]
    public async Task RestoreGroup_AtExpiry_ReturnsNullAndSweepDeletesIt()
    {
        await Backend.SaveGroupAsync("g-exp", ["a"]);

        Clock.Advance(Settings.Expires - TimeSpan.FromSeconds(1));
        Assert.NotNull(await Backend.RestoreGroupAsync("g-exp"));
        Clock.Advance(TimeSpan.FromSeconds(1));
        if (HidesExpired)
        {
            Assert.Null(await Backend.RestoreGroupAsync("g-exp"));
        }

        Assert.Equal(1, await Backend.SweepExpiredAsync(Clock.GetUtcNow()));
        Assert.Null(await Backend.RestoreGroupAsync("g-exp"));
        Assert.False(await Backend.ForgetGroupAsync("g-exp"));
    }

    [Fact]
    public async Task ForgetGroup_RemovesGroupOnceAndLeavesMemberResults()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("m-kept", 1));
        await Backend.SaveGroupAsync("g-f", ["m-kept"]);

        Assert.True(await Backend.ForgetGroupAsync("g-f"));
        Assert.Null(await Backend.RestoreGroupAsync("g-f"));
        Assert.False(await Backend.ForgetGroupAsync("g-f"));
        Assert.NotNull(await Backend.GetAsync("m-kept"));
    }

    [Fact]
    public async Task SaveGroup_Again_ReplacesMembers()
    {
        await Backend.SaveGroupAsync("g-replaced", ["a", "b"]);

        await Backend.SaveGroupAsync("g-replaced", ["c"]);

        Assert.Equal(["c"], await Backend.RestoreGroupAsync("g-replaced"));
    }

    private async Task SweepUnlessExpiredIsHiddenAsync(int expected, Func<Task<TaskResult?>> stillReadable)
    {
        if (!HidesExpired)
        {
            Assert.NotNull(await stillReadable());
            Assert.Equal(expected, await Backend.SweepExpiredAsync(Clock.GetUtcNow()));
        }
    }
}

/// <summary>Chord counting, for every backend that counts chord parts (all but file:// and rpc://).</summary>
public abstract class ChordCountingContract : ResultBackendContract
{
    [Fact]
    public async Task ChordPartReturn_ExpiredGroup_Throws()
    {
        await Backend.SaveGroupAsync("g-exp", ["a"]);
        Clock.Advance(Settings.Expires);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Backend.ChordPartReturnAsync("g-exp", "a"));
    }

    [Fact]
    public async Task ChordPartReturn_ForgottenGroup_Throws()
    {
        await Backend.SaveGroupAsync("g-f", ["m"]);
        await Backend.ForgetGroupAsync("g-f");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Backend.ChordPartReturnAsync("g-f", "m"));
    }

    [Fact]
    public async Task SaveGroup_Again_RestartsTheCount()
    {
        await Backend.SaveGroupAsync("g-again", ["a", "b"]);
        Assert.False(await Backend.ChordPartReturnAsync("g-again", "a"));

        await Backend.SaveGroupAsync("g-again", ["a", "c", "d"]);

        Assert.Equal(["a", "c", "d"], await Backend.RestoreGroupAsync("g-again"));
        Assert.False(await Backend.ChordPartReturnAsync("g-again", "c"));
        Assert.False(await Backend.ChordPartReturnAsync("g-again", "d"));
        Assert.True(await Backend.ChordPartReturnAsync("g-again", "a"));
    }

    [Fact]
    public async Task ChordPartReturn_CountsDistinctMembers_TrueOnceAtTheLast()
    {
        await Backend.SaveGroupAsync("g-c", ["a", "b", "c"]);

        Assert.False(await Backend.ChordPartReturnAsync("g-c", "a"));
        Assert.False(await Backend.ChordPartReturnAsync("g-c", "a"));
        Assert.False(await Backend.ChordPartReturnAsync("g-c", "b"));
        Assert.False(await Backend.ChordPartReturnAsync("g-c", "b"));
        Assert.True(await Backend.ChordPartReturnAsync("g-c", "c"));
        Assert.False(await Backend.ChordPartReturnAsync("g-c", "c"));
        Assert.False(await Backend.ChordPartReturnAsync("g-c", "a"));
    }

    [Fact]
    public async Task ChordPartReturn_UnknownGroup_ThrowsNamingIt()
    {
        Assert.True(Backend.CountsChordParts);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Backend.ChordPartReturnAsync("g-unknown-42", "m"));

        Assert.Contains("g-unknown-42", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChordPartReturn_ManyConcurrentCallers_ExactlyOneTrue()
    {
        var members = Enumerable.Range(0, 200).Select(i => $"cm-{i}").ToList();
        await Backend.SaveGroupAsync("g-race", members);

        var fired = await ChordCalls.ReturnAllAsync("g-race", members.Concat(members).Select(id => (Backend, id)));

        Assert.Single(fired, f => f);
    }
}

public sealed class MemoryResultBackendTests : ChordCountingContract
{
    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new MemoryResultBackend(settings.Expires, time);
}

public sealed class SqliteResultBackendContractTests : ChordCountingContract, IDisposable
{
    private readonly TempDatabase database = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new SqliteResultBackend(database.FilePath, settings, time);

    public void Dispose() => database.Dispose();
}
