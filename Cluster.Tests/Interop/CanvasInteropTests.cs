using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Transport.Amqp;
using static ClusterQueue.Canvas.Workflow;

namespace ClusterQueue.Tests.Interop;

/// <summary>
/// Groups, chords and links between Python Celery and ClusterQueue on RabbitMQ, both ways. Groups and links use rpc://;
/// chords need a store both sides read, which is Celery's file:// backend, where a chord joins with celery.chord_unlock.
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class CanvasInteropTests : IDisposable
{
    private readonly DirectoryInfo store = Directory.CreateTempSubdirectory("cq-canvas-store-");

    private string FileBackend => "file://" + store.FullName;

    public void Dispose() => store.Delete(recursive: true);

    [Fact]
    public async Task A_Python_group_runs_on_our_worker_and_its_results_come_back_in_order()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var worker = await StartOurWorkerAsync("rpc://", vhost);

        var printed = await PythonCelery.RunClientAsync(AmqpTestBroker.UrlOf(vhost), "group");

        Assert.Equal([0L, 2L, 4L, 6L, 8L], printed["result"]!.AsArray().Select(v => v!.GetValue<long>()));
        // Celery's group header: every member names the group.
        var member = printed["members"]![0]!.GetValue<string>();
        await worker.EventAsync(member, TaskEventKind.Succeeded);
    }

    [Fact]
    public async Task A_Python_link_is_applied_by_our_worker_with_the_result()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var worker = await StartOurWorkerAsync("rpc://", vhost);

        var printed = await PythonCelery.RunClientAsync(AmqpTestBroker.UrlOf(vhost), "link");

        Assert.Equal(5, printed["result"]!.GetValue<long>());
        Assert.Equal(50, printed["callback"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_Python_chord_on_a_file_store_runs_on_our_worker_which_runs_its_chord_unlock()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var worker = await StartOurWorkerAsync(FileBackend, vhost);

        var printed = await PythonCelery.RunClientAsync(
            AmqpTestBroker.UrlOf(vhost), "chord", new Dictionary<string, string> { ["CQ_INTEROP_RESULT_BACKEND"] = FileBackend });

        Assert.Equal(90.0, printed["result"]!.GetValue<double>());
        Assert.Contains(worker.Harness.Events, e => e.TaskName == "celery.chord_unlock" && e.Kind == TaskEventKind.Succeeded);
    }

    [Fact]
    public async Task Our_group_runs_on_a_Python_worker_and_the_GroupResult_collects_it_over_rpc()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var python = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(vhost));
        await using var client = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = "rpc://" });

        var group = await client.ApplyGroupAsync(Group(Enumerable.Range(0, 5).Select(i => Task("tasks.mul", i, 3))));

        Assert.Equal([0L, 3L, 6L, 9L, 12L], (await group.GetAsync(PythonCelery.Patience)).Select(v => v!.GetValue<long>()));
    }

    [Fact]
    public async Task Our_chord_on_a_file_store_runs_on_a_Python_worker_whose_chord_unlock_applies_the_body()
    {
        var vhost = AmqpTestBroker.NewVhost();
        var environment = new Dictionary<string, string> { ["CQ_INTEROP_RESULT_BACKEND"] = FileBackend };
        await using var python = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(vhost), environment: environment);
        await using var client = ClusterQueueApp.Open(
            AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = FileBackend, PollingInterval = TimeSpan.FromMilliseconds(50) });

        var result = await client.ApplyAsync(Chord(Enumerable.Range(1, 10).Select(i => Task("tasks.add", i, i)), Task("tasks.xsum")));

        Assert.Equal(110.0, (await result.GetAsync(PythonCelery.Patience))!.GetValue<double>());
    }

    [Fact]
    public async Task Our_chain_with_a_group_in_the_middle_runs_on_a_Python_worker_as_Celery_would_run_it()
    {
        var vhost = AmqpTestBroker.NewVhost();
        var environment = new Dictionary<string, string> { ["CQ_INTEROP_RESULT_BACKEND"] = FileBackend };
        await using var python = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(vhost), environment: environment);
        await using var client = ClusterQueueApp.Open(
            AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = FileBackend, PollingInterval = TimeSpan.FromMilliseconds(50) });

        var result = await client.ApplyAsync(Task("tasks.add", 1, 1) | Group(Task("tasks.add", 1), Task("tasks.mul", 3)) | Task("tasks.xsum") | Task("tasks.mul", 2));

        // add(1,1)=2; group → [3, 6]; xsum → 9; mul(9, 2) = 18
        Assert.Equal(18.0, (await result.GetAsync(PythonCelery.Patience))!.GetValue<double>());
    }

    private static async Task<TestWorker> StartOurWorkerAsync(string backend, string vhost)
    {
        var app = ClusterQueueApp.Open(
            AmqpTestBroker.Settings(vhost),
            new ResultSettings { Backend = backend, PollingInterval = TimeSpan.FromMilliseconds(50) },
            tasks: WorkerHarness.Registry());
        try
        {
            return new TestWorker(await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 2 }), app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
