using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

/// <summary>AsyncResult over every backend.</summary>
public abstract class AsyncResultContract : BackendTestBase
{
    [Fact]
    public async Task State_UnknownTask_IsPendingAndNotReady()
    {
        var result = new AsyncResult("unknown", Backend);

        Assert.Equal(TaskStates.Pending, await result.GetStateAsync());
        Assert.False(await result.ReadyAsync());
        Assert.False(await result.SuccessfulAsync());
        Assert.False(await result.FailedAsync());
    }

    [Fact]
    public async Task Get_Success_ReturnsValueAndTypedValue()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-ok", new JsonArray(1, 2, 3)));
        var result = new AsyncResult("t-ok", Backend);

        Assert.Equal("[1,2,3]", (await result.GetAsync(Generous))!.ToJsonString());
        var typed = await result.GetAsync<int[]>(Generous);
        Assert.Equal(new[] { 1, 2, 3 }, typed);
        Assert.True(await result.ReadyAsync());
        Assert.True(await result.SuccessfulAsync());
        Assert.False(await result.FailedAsync());
    }

    [Fact]
    public async Task Get_StoredLater_WaitsForIt()
    {
        var result = new AsyncResult("t-later", Backend);
        var getting = result.GetAsync<int>(Generous);

        await Backend.StoreAsync(TaskResult.Succeeded("t-later", 4));

        Assert.Equal(4, await getting);
    }

    [Fact]
    public async Task Get_FailureWithPropagate_ThrowsRemoteIdentityAndTraceback()
    {
        await Backend.StoreAsync(ResultFixtures.Failure("t-fail"));
        var result = new AsyncResult("t-fail", Backend);

        var error = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(Generous));

        Assert.Equal("t-fail", error.TaskId);
        Assert.Equal("ValueError", error.ExcType);
        Assert.Equal("builtins", error.ExcModule);
        Assert.Equal(["intentional failure"], error.ExcArgs.Select(a => (string?)a));
        Assert.EndsWith("ValueError: intentional failure\n", error.RemoteTraceback, StringComparison.Ordinal);
        Assert.Contains("t-fail", error.Message, StringComparison.Ordinal);
        Assert.Contains("ValueError: intentional failure", error.Message, StringComparison.Ordinal);
        Assert.True(await result.FailedAsync());
    }

    [Fact]
    public async Task Get_CustomFailure_NamesTheModuleInTheMessage()
    {
        var exception = ExceptionInfo.FromException(new CeleryException("CustomError", "tasks", "custom failure", 42));
        await Backend.StoreAsync(TaskResult.Failed("t-custom", exception, null));

        var error = await Assert.ThrowsAsync<TaskFailedException>(() => new AsyncResult("t-custom", Backend).GetAsync(Generous));

        Assert.Contains("tasks.CustomError", error.Message, StringComparison.Ordinal);
        Assert.Null(error.RemoteTraceback);
    }

    [Fact]
    public async Task Get_FailureWithoutPropagate_ReturnsTheExceptionObject()
    {
        await Backend.StoreAsync(ResultFixtures.Failure("t-quiet"));

        var value = await new AsyncResult("t-quiet", Backend).GetAsync(Generous, propagate: false);

        Assert.Equal("""{"exc_type":"ValueError","exc_message":["intentional failure"],"exc_module":"builtins"}""", value!.ToJsonString());
    }

    [Theory]
    [InlineData("revoked")]
    [InlineData("terminated")]
    [InlineData("expired")]
    public async Task Get_Revoked_ThrowsRevokedWithReason(string reason)
    {
        await Backend.StoreAsync(TaskResult.Revoked("t-rev", reason));

        var error = await Assert.ThrowsAsync<TaskRevokedException>(() => new AsyncResult("t-rev", Backend).GetAsync(Generous));

        Assert.Equal(reason, error.Reason);
        Assert.Equal("TaskRevokedError", error.ExcType);
        Assert.Equal("t-rev", error.TaskId);
    }

    [Fact]
    public async Task Get_RevokedWithoutPropagate_ReturnsTheExceptionObject()
    {
        await Backend.StoreAsync(TaskResult.Revoked("t-rev2", "revoked"));

        var value = await new AsyncResult("t-rev2", Backend).GetAsync(Generous, propagate: false);

        Assert.Equal("TaskRevokedError", (string?)value!["exc_type"]);
    }

    [Fact]
    public async Task Get_NotReadyInTime_ThrowsTimeoutNamingTheTask()
    {
        await Backend.StoreAsync(new TaskResult { TaskId = "t-stuck", Status = TaskStates.Started });

        var error = await Assert.ThrowsAsync<TimeoutException>(() => new AsyncResult("t-stuck", Backend).GetAsync(TimeSpan.FromMilliseconds(50)));

        Assert.Contains("t-stuck", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTyped_ValueOfWrongShape_ThrowsNamingTaskAndType()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-shape", "not a number"));

        var error = await Assert.ThrowsAsync<ResultFormatException>(() => new AsyncResult("t-shape", Backend).GetAsync<int>(Generous));

        Assert.Equal("t-shape", error.TaskId);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_FailureWhoseResultIsNotAnException_ThrowsFormatErrorNamingTheTask()
    {
        await Backend.StoreAsync(new TaskResult { TaskId = "t-odd", Status = TaskStates.Failure, Result = 5 });

        var error = await Assert.ThrowsAsync<ResultFormatException>(() => new AsyncResult("t-odd", Backend).GetAsync(Generous));

        Assert.Equal("t-odd", error.TaskId);
    }

    [Fact]
    public async Task Forget_ThenState_IsPending()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-forget", 1));
        var result = new AsyncResult("t-forget", Backend);

        Assert.True(await result.ForgetAsync());
        Assert.Equal(TaskStates.Pending, await result.GetStateAsync());
    }
}

public sealed class MemoryAsyncResultTests : AsyncResultContract
{
    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new MemoryResultBackend(settings.Expires, time);
}

public sealed class SqliteAsyncResultTests : AsyncResultContract, IDisposable
{
    private readonly TempDatabase database = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new SqliteResultBackend(database.FilePath, settings, time);

    public void Dispose() => database.Dispose();
}
