using System.Text.Json.Nodes;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class TaskOutcomeTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_task_that_returns_stores_SUCCESS_with_its_value(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);

        var sent = await worker.SendAsync("tasks.add", 2, 3);
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(5, result.Result!.GetValue<long>());
        var kinds = worker.EventsOf(sent.Id).Select(e => e.Kind).ToList();
        Assert.Equal([TaskEventKind.Received, TaskEventKind.Started], kinds.Take(2));
        var succeeded = await worker.EventAsync(sent.Id, TaskEventKind.Succeeded);
        Assert.Equal(worker.Node.Name, succeeded.NodeName);
        Assert.Equal("tasks.add", succeeded.TaskName);
        Assert.NotNull(succeeded.Runtime);
        Assert.Equal(1, worker.Stats.Succeeded);
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_task_that_throws_stores_FAILURE_with_the_exception_and_the_node_keeps_serving(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);

        var failing = await worker.SendAsync("tasks.fail", "boom");
        var failure = await worker.ResultAsync(failing.Id);
        var next = await worker.SendAsync("tasks.mul", 6, 7);

        Assert.Equal(TaskStates.Failure, failure.Status);
        var exception = failure.Exception!;
        Assert.Equal("InvalidOperationException", exception.ExcType);
        Assert.Equal("System", exception.ExcModule);
        Assert.Equal("boom", exception.Message);
        Assert.Contains("InvalidOperationException: boom", failure.Traceback);
        Assert.Equal(42, (await worker.ResultAsync(next.Id)).Result!.GetValue<long>());
        var failed = await worker.EventAsync(failing.Id, TaskEventKind.Failed);
        Assert.Equal("InvalidOperationException", failed.Exception!.ExcType);
        Assert.Equal(1, worker.Stats.Failed);
    }

    [Fact]
    public async Task Arguments_that_do_not_fit_fail_as_Pythons_TypeError()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("tasks.add", 1);
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal("TypeError", result.Exception!.ExcType);
        Assert.Equal("builtins", result.Exception.ExcModule);
        Assert.Contains("'y'", result.Exception.Message);
    }

    [Fact]
    public async Task Track_started_stores_STARTED_with_pid_and_hostname_before_SUCCESS()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("test.started", 9);
        await worker.EventAsync(sent.Id, TaskEventKind.Started);
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Success, result.Status);
        // The STARTED state was written before SUCCESS replaced it; the backend keeps only the latest, so check it directly.
        var started = TaskResult.Started(sent.Id, Environment.ProcessId, worker.Node.Name);
        Assert.False(await worker.App.Results.StoreAsync(started), "a STARTED after SUCCESS must be ignored, so SUCCESS was stored last");
        Assert.Equal(9, result.Result!.GetValue<int>());
    }

    [Fact]
    public async Task Ignore_result_runs_the_task_and_stores_nothing()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("test.quiet", 4);
        await worker.EventAsync(sent.Id, TaskEventKind.Succeeded);

        Assert.Null(await worker.App.Results.GetAsync(sent.Id));
    }

    [Fact]
    public async Task A_json_argument_reaches_the_task_whole()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("test.args", new JsonArray(1, "two", null));

        Assert.Equal(3, (await worker.ResultAsync(sent.Id)).Result!.GetValue<int>());
    }

    [Fact]
    public async Task Settings_that_cannot_work_are_refused_with_the_key_named()
    {
        var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        await using var _ = app;

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            WorkerNode.StartAsync(new WorkerSettings { Optimization = "fastest" }, app));

        Assert.Contains("cluster-queue.node.optimization", error.Message);
    }
}
