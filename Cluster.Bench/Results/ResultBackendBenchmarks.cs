using BenchmarkDotNet.Attributes;
using ClusterQueue.Results;

namespace ClusterQueue.Bench.Results;

/// <summary>Store-then-read of one SUCCESS result, and the JSON round trip, per backend.</summary>
[MemoryDiagnoser]
public class ResultBackendBenchmarks
{
    private readonly TaskResult success = TaskResult.Succeeded("00000000-0000-0000-0000-000000000000", 4);
    private string directory = "";
    private IResultBackend memory = null!;
    private IResultBackend sqlite = null!;
    private string json = "";
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        directory = Directory.CreateTempSubdirectory("cq-results-bench-").FullName;
        memory = new MemoryResultBackend();
        sqlite = new SqliteResultBackend(Path.Combine(directory, "results.db"));
        json = TaskResultJson.Serialize(success with { DateDone = DateTime.UtcNow });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await memory.DisposeAsync();
        await sqlite.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark]
    public string Serialize() => TaskResultJson.Serialize(success);

    [Benchmark]
    public TaskResult Parse() => TaskResultJson.Parse(json);

    [Benchmark]
    public Task<TaskResult?> MemoryStoreAndGet() => StoreAndGet(memory);

    [Benchmark]
    public Task<TaskResult?> SqliteStoreAndGet() => StoreAndGet(sqlite);

    private async Task<TaskResult?> StoreAndGet(IResultBackend backend)
    {
        var id = "task-" + Interlocked.Increment(ref next);
        await backend.StoreAsync(success with { TaskId = id });
        return await backend.GetAsync(id);
    }
}
