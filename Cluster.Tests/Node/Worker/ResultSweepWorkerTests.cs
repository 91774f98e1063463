using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using Microsoft.Data.Sqlite;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>The worker deletes expired results every sweep interval, as Celery's beat runs celery.backend_cleanup.</summary>
public sealed class ResultSweepWorkerTests
{
    [Fact]
    public async Task A_worker_deletes_results_once_they_expire()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("cq-sweep-").FullName, "results.db");
        var results = new ResultSettings
        {
            Backend = "sqlite:///" + path,
            Expires = TimeSpan.FromMilliseconds(300),
            SweepInterval = TimeSpan.FromMilliseconds(100),
        };
        await using var app = ClusterQueueApp.Open(NewBroker(TestBroker.Memory), results, tasks: Registry());
        await using var harness = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 1 });

        var sent = await app.SendTaskAsync("tasks.add", [1, 2]);
        await harness.WaitForEventAsync(sent.Id, TaskEventKind.Succeeded);
        Assert.Equal(1, CountRows(path));

        await EventuallyAsync(() => CountRows(path) == 0, "the expired result to be deleted");
    }

    private static long CountRows(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM celery_taskmeta";
        return (long)command.ExecuteScalar()!;
    }
}
