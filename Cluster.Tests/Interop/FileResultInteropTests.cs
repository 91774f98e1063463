using System.Text.Json.Nodes;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;

namespace ClusterQueue.Tests.Interop;

/// <summary>
/// One file:// result directory shared with Python Celery's FilesystemBackend, both ways, with no broker: what one
/// side writes, the other reads, results and saved groups alike.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", "Python")]
public sealed class FileResultInteropTests : IDisposable
{
    // Python never contacts it: filesystem_backend.py only reads and writes the directory.
    private const string NoBroker = "memory://";

    private readonly TempDatabase folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Python_reads_the_result_and_the_saved_group_that_we_wrote()
    {
        await using (var backend = ResultBackends.Open("file://" + folder.Directory, new ResultSettings()))
        {
            await backend.StoreAsync(TaskResult.Succeeded("t-ours", new JsonObject { ["sum"] = 4, ["text"] = "h\u00e9llo" }) with
            {
                Name = "tasks.add",
                Args = new JsonArray(2, 2),
                Kwargs = new JsonObject(),
                Worker = "cq@host",
                Retries = 0,
                Queue = "celery",
                DateDone = new DateTime(2026, 11, 21, 9, 0, 0, 250, DateTimeKind.Utc),
            });
            await backend.StoreAsync(ResultFixtures.Failure("t-failed"));
            await backend.SaveGroupAsync("g-ours", ["t-ours", "t-failed", "t-pending"]);
        }

        var printed = await PythonCelery.RunScriptAsync(NoBroker, null, "filesystem_backend.py", "read", folder.Directory, "t-ours", "t-failed", "g-ours");

        Assert.Equal("SUCCESS", (string?)printed["state"]);
        ResultFixtures.AssertSameJson("""{"sum": 4, "text": "h\u00e9llo"}""", printed["result"]!.ToJsonString());
        ResultFixtures.AssertSameJson(
            """
            {"status": "SUCCESS", "result": {"sum": 4, "text": "h\u00e9llo"}, "traceback": null, "children": [],
             "name": "tasks.add", "args": [2, 2], "kwargs": {}, "worker": "cq@host", "retries": 0, "queue": "celery", "task_id": "t-ours"}
            """,
            printed["meta"]!.ToJsonString());
        Assert.Equal("2026-11-21T09:00:00.250000", (string?)printed["date_done"]);
        Assert.Equal("FAILURE", (string?)printed["failed_state"]);
        Assert.Equal("ValueError", (string?)printed["failed_exception"]);
        Assert.Equal("intentional failure", (string?)printed["failed_message"]);
        Assert.Equal("g-ours", (string?)printed["group_id"]);
        ResultFixtures.AssertSameJson("""["t-ours", "t-failed", "t-pending"]""", printed["group_members"]!.ToJsonString());
        Assert.True((bool?)printed["missing_group"]);
    }

    [Fact]
    public async Task We_read_the_result_and_the_saved_group_that_Python_wrote()
    {
        await PythonCelery.RunScriptAsync(NoBroker, null, "filesystem_backend.py", "write", folder.Directory, "t-py", "g-py", "t-py", "m-2", "m-3");

        await using var backend = ResultBackends.Open("file://localhost" + folder.Directory, new ResultSettings());
        var result = await new AsyncResult("t-py", backend).GetAsync(TimeSpan.FromSeconds(10));
        var meta = await backend.GetAsync("t-py");

        ResultFixtures.AssertSameJson("""{"sum": 4, "text": "h\u00e9llo"}""", result!.ToJsonString());
        Assert.Equal(TaskStates.Success, meta!.Status);
        Assert.Equal("tasks.add", meta.Name);
        Assert.Equal("[2,2]", meta.Args!.ToJsonString());
        Assert.Equal("""{"k":"v"}""", meta.Kwargs!.ToJsonString());
        Assert.Equal("py@host", meta.Worker);
        Assert.Equal(1, meta.Retries);
        Assert.Equal("celery", meta.Queue);
        Assert.NotNull(meta.DateDone);
        Assert.Equal(["t-py", "m-2", "m-3"], await backend.RestoreGroupAsync("g-py"));

        // A late state from our side keeps Python's SUCCESS, as Celery's key-value backends do.
        Assert.False(await backend.StoreAsync(new TaskResult { TaskId = "t-py", Status = TaskStates.Started }));
    }
}
