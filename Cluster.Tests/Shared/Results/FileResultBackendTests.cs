using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

public sealed class FileResultBackendContractTests : ResultBackendContract, IDisposable
{
    private readonly TempDatabase folder = new();

    protected override bool HidesExpired => false;

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new FileResultBackend(folder.Directory, settings, time);

    public void Dispose() => folder.Dispose();
}

public sealed class FileAsyncResultTests : AsyncResultContract, IDisposable
{
    private readonly TempDatabase folder = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new FileResultBackend(folder.Directory, settings, time);

    public void Dispose() => folder.Dispose();
}

/// <summary>What is the file backend's own: Celery's file names and contents, atomic writes, URLs, and no chord counter.</summary>
public sealed class FileResultBackendTests : BackendTestBase, IDisposable
{
    private readonly TempDatabase folder = new();

    protected override IResultBackend Create(ResultSettings settings, TimeProvider time) => new FileResultBackend(folder.Directory, settings, time);

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Store_WritesCelerysTaskMetaFileAndNothingElse()
    {
        await Backend.StoreAsync(TaskResult.Succeeded("t-1", 4) with { Name = "tasks.add", Args = new JsonArray(2, 2), Kwargs = new JsonObject(), Worker = "w@h", Retries = 0, Queue = "celery" });

        var file = Assert.Single(Directory.GetFiles(folder.Directory));
        Assert.Equal("celery-task-meta-t-1", Path.GetFileName(file));
        var text = await File.ReadAllTextAsync(file);
        Assert.Equal(
            ["status", "result", "traceback", "children", "date_done", "name", "args", "kwargs", "worker", "retries", "queue", "task_id"],
            ResultFixtures.KeysInOrder(text));
        Assert.False(text.StartsWith('\uFEFF'));
        Assert.Equal(4, (int?)JsonNode.Parse(text)!["result"]);
    }

    [Fact]
    public async Task SaveGroup_WritesCelerysTasksetFileWithTheGroupTuple()
    {
        await Backend.SaveGroupAsync("g-1", ["a", "b"]);

        var text = await File.ReadAllTextAsync(Path.Combine(folder.Directory, "celery-taskset-meta-g-1"));
        ResultFixtures.AssertSameJson("""{"result": [["g-1", null], [[["a", null], null], [["b", null], null]]]}""", text);
    }

    [Fact]
    public async Task RestoreGroup_NestedGroupMember_IsNamedByItsId()
    {
        await File.WriteAllTextAsync(
            Path.Combine(folder.Directory, "celery-taskset-meta-g-n"),
            """{"result": [["g-n", null], [[["a", null], null], [["inner", null], [[["b", null], null]]]]]}""");

        Assert.Equal(["a", "inner"], await Backend.RestoreGroupAsync("g-n"));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"result": [["g-bad", null]]}""")]
    [InlineData("""{"other": 1}""")]
    public async Task RestoreGroup_BadFile_ThrowsNamingTheGroup(string content)
    {
        await File.WriteAllTextAsync(Path.Combine(folder.Directory, "celery-taskset-meta-g-bad"), content);

        var error = await Assert.ThrowsAsync<ResultFormatException>(() => Backend.RestoreGroupAsync("g-bad"));

        Assert.Equal("g-bad", error.TaskId);
    }

    [Fact]
    public async Task ChordPartReturn_IsNotSupportedAndSaysChordsUseChordUnlock()
    {
        await Backend.SaveGroupAsync("g-c", ["a"]);

        Assert.False(Backend.CountsChordParts);
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Backend.ChordPartReturnAsync("g-c", "a"));
        Assert.Contains("chord_unlock", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_ManyTimesWhileAnotherInstanceReads_NeverShowsHalfAFile()
    {
        var reader = Open();
        var big = new JsonArray(Enumerable.Range(0, 20_000).Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
        await Backend.StoreAsync(new TaskResult { TaskId = "t-big", Status = TaskStates.Started, Result = big });
        using var stop = new CancellationTokenSource();

        var reads = 0;
        var reading = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // A torn file would fail to parse here.
                Assert.Equal(20_000, (await reader.GetAsync("t-big"))!.Result!.AsArray().Count);
                reads++;
            }
        });
        for (var i = 0; i < 100; i++)
        {
            await Backend.StoreAsync(new TaskResult { TaskId = "t-big", Status = TaskStates.Started, Result = big });
        }

        await stop.CancelAsync();
        await reading;
        Assert.True(reads > 0);
        Assert.Equal(["celery-task-meta-t-big"], Directory.GetFiles(folder.Directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Wait_ResultStoredByAnotherInstance_CompletesByPolling()
    {
        var worker = Open();
        var waiting = Backend.WaitAsync("t-x", Generous);

        await worker.StoreAsync(new TaskResult { TaskId = "t-x", Status = TaskStates.Started });
        await worker.StoreAsync(TaskResult.Succeeded("t-x", 42));

        Assert.Equal(42, (int?)(await waiting).Result);
    }

    [Fact]
    public async Task SweepExpired_LeavesFilesThatAreNotCelerysKeys()
    {
        var other = Path.Combine(folder.Directory, "notes.txt");
        await File.WriteAllTextAsync(other, "kept");
        File.SetLastWriteTimeUtc(other, DateTime.UtcNow.AddYears(-1));
        await Backend.StoreAsync(TaskResult.Succeeded("t-old", 1));
        await Backend.SaveGroupAsync("g-old", ["t-old"]);

        Assert.Equal(2, await Backend.SweepExpiredAsync(Clock.GetUtcNow() + Settings.Expires));

        Assert.Equal(["notes.txt"], Directory.GetFiles(folder.Directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..\\x")]
    public async Task Store_IdWithAPathSeparator_IsRefused(string taskId)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.StoreAsync(TaskResult.Succeeded(taskId, 1)));
    }

    [Theory]
    [InlineData("file://")]
    [InlineData("file://localhost")]
    public async Task Open_FileUrl_UsesTheDirectoryAsCeleryFindsIt(string prefix)
    {
        // file:///abs and file://localhost/abs both name /abs: Celery strips "file://localhost" or "file://".
        await using var backend = ResultBackends.Open(prefix + folder.Directory, Settings, Clock);

        Assert.Equal(folder.Directory, Assert.IsType<FileResultBackend>(backend).Directory);
    }

    [Theory]
    [InlineData("file:///srv/results", "/srv/results")]
    [InlineData("file://localhost/srv/results", "/srv/results")]
    [InlineData("FILE://localhost/srv/results", "/srv/results")]
    [InlineData("file://results/here", "results/here")]
    public void FilePath_IsWhatCelerysFilesystemBackendFinds(string url, string path)
    {
        Assert.Equal(path, ResultBackends.FilePath(url));
    }

    [Fact]
    public void Open_MissingDirectory_ThrowsNamingTheSettingAndTheDirectory()
    {
        var missing = Path.Combine(folder.Directory, "absent");

        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open("file://" + missing, Settings, Clock));

        Assert.Contains("cluster-queue.result.backend", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void Open_FileUrlWithoutADirectory_Throws()
    {
        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open("file://", Settings, Clock));

        Assert.Contains("needs a directory", error.Message, StringComparison.Ordinal);
    }
}
