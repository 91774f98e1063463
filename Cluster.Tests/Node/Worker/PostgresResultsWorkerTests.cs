using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>A worker on the memory broker that stores its results in PostgreSQL, read back by a client of its own.</summary>
[Trait("Server", "PostgreSQL")]
public sealed class PostgresResultsWorkerTests : IDisposable
{
    private readonly PostgresTestSchema schema = new();

    public void Dispose() => schema.Dispose();

    [Fact]
    public async Task A_worker_stores_SUCCESS_and_FAILURE_in_postgresql_where_another_process_reads_them()
    {
        var results = new ResultSettings { Backend = schema.Url("db+postgresql"), PollingInterval = TimeSpan.FromMilliseconds(20) };
        await using var app = ClusterQueueApp.Open(NewBroker(TestBroker.Memory), results, tasks: Registry());
        await using var harness = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 2 });

        var added = await app.SendTaskAsync("tasks.add", [2, 3]);
        var failing = await app.SendTaskAsync("tasks.fail", ["boom"]);

        // Another process's view: a backend of its own on the same table, which sees the results by polling.
        await using var client = new PostgresResultBackend(schema.ConnectionString, results);
        Assert.Equal(5L, (await new AsyncResult(added.Id, client).GetAsync(Patience))!.GetValue<long>());
        var failure = await client.WaitAsync(failing.Id, Patience);
        Assert.Equal(TaskStates.Failure, failure.Status);
        Assert.Equal("InvalidOperationException", failure.Exception!.ExcType);
        Assert.Equal("boom", failure.Exception.Message);
        Assert.Contains("InvalidOperationException: boom", failure.Traceback, StringComparison.Ordinal);
        Assert.Equal(2L, schema.Scalar("SELECT count(*) FROM celery_taskmeta WHERE ready"));
    }
}
