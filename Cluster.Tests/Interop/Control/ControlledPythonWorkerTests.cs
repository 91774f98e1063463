using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Commands;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Interop.Control;

/// <summary>One Python Celery worker with a fixed node name on a vhost of its own, for the remote-control tests of a class.</summary>
public sealed class NamedPythonWorkerFixture : IAsyncLifetime
{
    public const string NodeName = "pyctl@interop";

    private PythonCeleryWorker? worker;

    public string Vhost { get; } = AmqpTestBroker.NewVhost();

    public string BrokerUrl => AmqpTestBroker.UrlOf(Vhost);

    public PythonCeleryWorker Worker => worker ?? throw new InvalidOperationException("the Python worker has not started");

    public async Task InitializeAsync() => worker = await PythonCeleryWorker.StartAsync(BrokerUrl, NodeName);

    public async Task DisposeAsync()
    {
        if (worker is not null)
        {
            await worker.DisposeAsync();
        }
    }
}

/// <summary>Our <c>status</c>, <c>inspect</c> and <c>control</c> commands and our control client, aimed at a Python Celery 5.2.6 worker on RabbitMQ.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class ControlledPythonWorkerTests(NamedPythonWorkerFixture python) : IClassFixture<NamedPythonWorkerFixture>
{
    private const string Node = NamedPythonWorkerFixture.NodeName;

    // The call ends when the named node replied; the timeout only bounds a failure on a busy machine.
    private const string Patient = "30";

    [Fact]
    public async Task Status_ListsThePythonWorker()
    {
        var run = await RunAsync("status", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var nl = Environment.NewLine;
        Assert.Equal($"->  {Node}: OK{nl}{nl}1 node online.{nl}", run.Output);
    }

    [Fact]
    public async Task ControlClient_PingsThePythonWorker_AndGetsPong()
    {
        await using var transport = AmqpTestBroker.Open(python.Vhost);
        await using var client = new PidboxClient(transport);

        var replies = await client.PingAsync(ControlTarget.Nodes(Node), PythonCelery.Patience);

        var reply = Assert.Single(replies);
        Assert.Equal(Node, reply.Node);
        Assert.Equal("{\"ok\":\"pong\"}", reply.Value?.ToJsonString());
    }

    [Fact]
    public async Task InspectRegistered_ListsThePythonTasks()
    {
        var run = await RunAsync("inspect", "registered", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.StartsWith($"->  {Node}: OK", run.Output, StringComparison.Ordinal);
        foreach (var task in new[] { "tasks.add", "tasks.mul", "tasks.xsum", "tasks.noop", "tasks.echo", "tasks.sleep", "tasks.fail", "tasks.flaky" })
        {
            // Another test may have set a rate limit, which the line then shows after the name.
            Assert.Contains(run.Output.Split(Environment.NewLine), line => line == $"    * {task}" || line.StartsWith($"    * {task} [", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ControlRateLimit_IsAppliedByThePythonWorker_AndShownByInspectRegistered()
    {
        var run = await RunAsync("control", "rate_limit", "tasks.mul", "7/m", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"->  {Node}: OK{Environment.NewLine}        new rate limit set successfully{Environment.NewLine}", run.Output);
        var registered = await RunAsync("inspect", "registered", "rate_limit", "-d", Node, "-t", Patient, "--json");
        var tasks = JsonNode.Parse(registered.Output)![Node]!.AsArray().Select(t => (string?)t);
        Assert.Contains("tasks.mul [rate_limit=7/m]", tasks);
    }

    [Fact]
    public async Task ControlRateLimit_BadRate_PrintsThePythonWorkersError()
    {
        var run = await RunAsync("control", "rate_limit", "tasks.add", "10/x", "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Equal($"->  {Node}: ERROR{Environment.NewLine}        KeyError('x'){Environment.NewLine}", run.Output);
    }

    [Fact]
    public async Task Revoke_BeforeTheTaskIsSent_ThePythonWorkerListsIt_AndDiscardsTheTaskAsRevoked()
    {
        // Our client holds a countdown at the broker, so an id revoked ahead of sending is how a task meets the worker revoked.
        var taskId = Guid.NewGuid().ToString();

        var run = await RunAsync("control", "revoke", taskId, "-d", Node, "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"->  {Node}: OK{Environment.NewLine}        tasks {taskId} flagged as revoked{Environment.NewLine}", run.Output);
        await using var app = ClusterQueueApp.Open(AmqpTestBroker.Settings(python.Vhost), new ResultSettings { Backend = "rpc://" });
        await using (var client = new PidboxClient(app.Transport))
        {
            var revoked = Assert.Single(await client.InspectAsync("revoked", ControlTarget.Nodes(Node), PythonCelery.Patience));
            Assert.Contains(taskId, revoked.Value!.AsArray().Select(id => (string?)id));
        }

        var sent = await app.ApplyAsync("tasks.add", [20, 22], options: new SendOptions { TaskId = taskId });
        await Assert.ThrowsAsync<TaskRevokedException>(() => sent.GetAsync(PythonCelery.Patience));
        Assert.Equal(TaskStates.Revoked, await sent.GetStateAsync());
    }

    private Task<CliRun> RunAsync(params string[] call) => CommandTestKit.RunAsync([.. call, "--broker", python.BrokerUrl]);
}
