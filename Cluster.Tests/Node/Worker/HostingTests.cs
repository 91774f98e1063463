using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class HostingTests
{
    [Fact]
    public async Task A_hosted_worker_starts_with_the_host_and_finishes_its_task_when_the_host_stops()
    {
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(app);
        builder.Services.AddClusterQueueWorker(worker => worker.WithSettings(new WorkerSettings { Concurrency = 1 }));
        using var host = builder.Build();
        var gate = TestTasks.NewKey("hosted");

        await host.StartAsync();
        var node = host.Services.GetRequiredService<WorkerHostedService>().Node;
        var sent = await app.ApplyAsync("test.late", [gate]);
        await EventuallyAsync(() => node.Stats.Started == 1, "the task to start");
        var stopping = host.StopAsync();
        TestTasks.Open(gate);
        await stopping.WaitAsync(Patience);

        Assert.True(node.Completion.IsCompleted);
        Assert.Equal(TaskStates.Success, (await app.Results.GetAsync(sent.Id))!.Status);
        // The node ran in the actor system Akka.Hosting made for the host, and its stop ended that system.
        var system = host.Services.GetRequiredService<Akka.Actor.ActorSystem>();
        Assert.Same(system, node.ActorSystem);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public void Registering_a_worker_with_settings_that_cannot_work_fails_at_once_naming_the_key()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            services.AddClusterQueueWorker(worker => worker.WithSettings(new WorkerSettings { Concurrency = -1 })));

        Assert.Contains("cluster-queue.node.concurrency", error.Message);
    }

    [Fact]
    public async Task The_test_harness_runs_a_users_own_task()
    {
        var tasks = new TaskRegistry();
        tasks.Register("shop.total", (List<double> prices) => prices.Sum());
        await using var harness = await WorkerTestHarness.StartAsync(tasks);

        var sent = await harness.App.ApplyAsync("shop.total", [new[] { 1.5, 2.5 }]);

        Assert.Equal(4.0, (await harness.WaitForResultAsync(sent.Id)).Result!.GetValue<double>());
        Assert.Equal(TaskEventKind.Succeeded, (await harness.WaitForEventAsync(sent.Id, TaskEventKind.Succeeded)).Kind);
    }
}
