using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Transport.Sqs;

namespace ClusterQueue.Tests.Interop;

/// <summary>A Python Celery 5 client on kombu's SQS transport sends to our worker; both share the queues by kombu's names.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", SqsTestServer.Trait)]
[Trait("Category", "Python")]
public sealed class PythonSqsClientTests
{
    [Fact]
    public async Task A_celery_client_on_sqs_sends_tasks_add_and_our_worker_runs_it()
    {
        var prefix = SqsTestServer.NewPrefix();
        var results = Path.Combine(Directory.CreateTempSubdirectory("cq-sqs-interop-").FullName, "results.db");
        await using var app = ClusterQueueApp.Open(
            SqsTestServer.Settings(prefix), new ResultSettings { Backend = $"sqlite:///{results}" }, tasks: WorkerHarness.Registry());
        await using var worker = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 2 });

        // kombu takes the endpoint from the URL's host and port, as our sqs:// URL does.
        var endpoint = new Uri(SqsTestServer.Endpoint);
        var printed = await PythonCelery.RunClientAsync(
            $"sqs://test:test@{endpoint.Host}:{endpoint.Port}", "send_add", new Dictionary<string, string> { ["CQ_INTEROP_SQS_PREFIX"] = prefix });
        var id = printed["id"]!.GetValue<string>();
        var result = await app.Results.WaitAsync(id, PythonCelery.Patience);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(4, result.Result!.GetValue<int>());
        await worker.WaitForEventAsync(id, TaskEventKind.Succeeded);
    }
}
