using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Amqp;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Interop;

/// <summary>The monitor reading RabbitMQ's celeryev shows a Python Celery worker and the tasks it runs, next to ours.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class MonitorCeleryEventsTests
{
    [Fact]
    public async Task A_python_worker_and_its_task_appear_in_the_monitor_through_celeryev()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var app = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = "rpc://" });
        await using var monitor = await MonitorNode.StartAsync(
            new MonitorSettings { StateDb = "" }, new ClusterSettings(), ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        await monitor.ReadCeleryEventsAsync(app.Transport, NullLoggerFactory.Instance.CreateLogger("test"));
        await using var python = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(vhost), "py-mon@%h", sendTaskEvents: true);

        var sent = await app.SendTaskAsync("tasks.add", [3, 4]);
        Assert.Equal(7, (await sent.GetAsync(PythonCelery.Patience))!.GetValue<int>());
        var deadline = DateTime.UtcNow + PythonCelery.Patience;
        while (monitor.State.Task(sent.Id)?.State != TaskStates.Success && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var task = monitor.State.Task(sent.Id);
        Assert.NotNull(task);
        Assert.Equal(TaskStates.Success, task.State);
        Assert.Equal("tasks.add", task.Name);
        Assert.Equal("7", task.Result);
        var worker = Assert.Single(monitor.State.Workers(), w => w.Hostname.StartsWith("py-mon@", StringComparison.Ordinal));
        Assert.True(worker.Alive);
        Assert.Equal("heartbeat", worker.AliveBy);
        Assert.Equal("py-celery", worker.SwIdent);
        Assert.Equal(worker.Hostname, task.Worker);
    }
}
