using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Protocol;
using ClusterQueue.Tests.Transport.Amqp;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Interop;

/// <summary>Messages signed with the auth serializer between Python Celery (setup_security) and ClusterQueue on RabbitMQ, both ways.</summary>
/// <remarks>Both sides use the same key, certificate and store, made here; Python reads them from CQ_INTEROP_SECURITY_DIR.</remarks>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class SecurityInteropTests
{
    [Fact]
    public async Task A_signed_task_from_a_Python_client_runs_on_our_worker_and_a_tampered_one_is_dead_lettered()
    {
        using var keys = SigningKeys.Create();
        var vhost = AmqpTestBroker.NewVhost();
        var app = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = "rpc://" }, keys.Publish(), WorkerHarness.Registry());
        try
        {
            await using var harness = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 2 });

            var printed = await PythonCelery.RunClientAsync(AmqpTestBroker.UrlOf(vhost), "echo_types", Environment(keys));

            Assert.Equal("auth", printed["serializer"]!.GetValue<string>());
            Assert.Equal(4, printed["add"]!.GetValue<int>());
            Assert.True(JsonNode.DeepEquals(SerializerInteropTests.EchoExpected, printed["echo"]), $"echo returned {printed["echo"]?.ToJsonString()}");
            Assert.Equal(0, harness.Node.Stats.Rejected);

            var signed = app.Codec.Encode(new TaskMessage { Task = "tasks.add", Id = "tampered-1", Args = [1, 2] });
            await app.Transport.PublishAsync("", "celery", SigningKeys.Tamper(signed, -3));
            var rejected = await harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);

            Assert.Equal("tampered-1", rejected.TaskId);
            Assert.StartsWith($"undecodable message: body has a bad signature: it does not match the body for certificate '{keys.Load().Signer}'", rejected.Reason);
            var dead = (await WorkerHarness.TakeAsync(app.Transport, "celery.dlq", 1)).Single();
            Assert.Equal(rejected.Reason, dead.Message.Headers[DeadLetter.ReasonHeader]);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Our_signed_tasks_run_on_a_Python_worker_that_accepts_only_auth()
    {
        using var keys = SigningKeys.Create();
        var vhost = AmqpTestBroker.NewVhost();
        await using var worker = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(vhost), environment: Environment(keys));
        await using var client = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), new ResultSettings { Backend = "rpc://" }, keys.Publish());

        var added = await client.SendTaskAsync("tasks.add", [2, 2]);
        var echoed = await client.SendTaskAsync("tasks.echo", SerializerInteropTests.EchoArgs(), SerializerInteropTests.EchoKwargs());

        Assert.Equal(4, await added.GetAsync<long>(PythonCelery.Patience));
        var echo = await echoed.GetAsync(PythonCelery.Patience);
        Assert.True(JsonNode.DeepEquals(SerializerInteropTests.EchoExpected, echo), $"echo returned {echo?.ToJsonString()}");
        Assert.DoesNotContain("SecurityError", worker.Output, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Environment(SigningKeys keys) => new() { ["CQ_INTEROP_SECURITY_DIR"] = keys.Folder };
}
