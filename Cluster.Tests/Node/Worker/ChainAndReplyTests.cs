using System.Text.Json.Nodes;
using ClusterQueue.Canvas;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Regressions found through Python interop: the worker follows <c>embed.chain</c>, and rpc results reach their reply queue.</summary>
public sealed class ChainAndReplyTests
{
    [Fact]
    public async Task A_chain_runs_its_follow_ups_in_order_with_the_parent_result_prepended()
    {
        await using var worker = await StartAsync(TestBroker.Memory);
        var root = Uuid.NewId();
        var mulId = Uuid.NewId();
        var addId = Uuid.NewId();
        // (add.s(2, 2) | mul.s(10) | add.s(1)) as Python sends it: the rest of the chain last-to-run first.
        var first = new TaskMessage
        {
            Task = "tasks.add",
            Id = root,
            RootId = root,
            Priority = 3,
            Args = [2, 2],
            Embed = new TaskEmbed
            {
                Chain =
                [
                    new Signature { Task = "tasks.add", Args = [1], Options = new JsonObject { ["task_id"] = addId } },
                    new Signature { Task = "tasks.mul", Args = [10], Options = new JsonObject { ["task_id"] = mulId } },
                ],
            },
        };

        await worker.App.PublishAsync(first);

        var last = await worker.ResultAsync(addId);
        Assert.Equal(41, last.Result!.GetValue<long>());
        var firstResult = await worker.ResultAsync(root);
        Assert.Equal(4, firstResult.Result!.GetValue<long>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($"[[[\"{mulId}\", null], null]]"), firstResult.Children));
        Assert.Equal(40, (await worker.ResultAsync(mulId)).Result!.GetValue<long>());
    }

    [Fact]
    public async Task A_follow_up_keeps_the_root_names_its_parent_and_inherits_the_priority()
    {
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        var chain = new List<Signature>
        {
            new() { Task = "tasks.noop" },
            new() { Task = "tasks.echo", Args = ["x"], Immutable = true, Options = new JsonObject { ["queue"] = "other", ["task_id"] = "next" } },
        };

        var tuple = await app.Canvas.ApplyAsync(chain[^1], [4], new Lineage("parent", "root", 7, "reply-queue"), chain[..^1]);

        var message = app.Codec.Decode(Assert.Single(await TakeAsync(app.Transport, "other", 1)).Message);
        Assert.Equal("tasks.echo", message.Task);
        Assert.Equal("root", message.RootId);
        Assert.Equal("parent", message.ParentId);
        Assert.Equal("reply-queue", message.ReplyTo);
        Assert.Equal((byte)7, message.Priority);
        Assert.True(JsonNode.DeepEquals(new JsonArray("x"), message.Args), "an immutable signature keeps its own args");
        Assert.Equal("tasks.noop", Assert.Single(message.Embed.Chain!).Task);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[["next", null], null]"""), tuple));
    }

    [Theory]
    [InlineData("task_id", "5")]
    [InlineData("expires", "true")]
    [InlineData("priority", "\"high\"")]
    public async Task A_follow_up_whose_option_has_the_wrong_type_fails_naming_the_option(string option, string value)
    {
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        var next = new Signature { Task = "tasks.mul", Options = new JsonObject { [option] = JsonNode.Parse(value) } };

        var error = await Assert.ThrowsAsync<MessageDecodeException>(() => app.Canvas.ApplyAsync(next, [1], Lineage.None));

        Assert.Contains("options." + option, error.Field);
    }

    [Fact]
    public async Task A_worker_with_the_rpc_backend_sends_the_result_to_the_clients_reply_queue()
    {
        var broker = NewBroker(TestBroker.Memory);
        await using var client = ClusterQueueApp.Open(broker, new ResultSettings { Backend = "rpc://" }, tasks: Registry());
        await using var workerApp = ClusterQueueApp.Open(broker, new ResultSettings { Backend = "rpc://" }, tasks: Registry());
        await using var harness = await WorkerTestHarness.StartAsync(workerApp, new WorkerSettings { Concurrency = 1 });

        var sent = await client.DelayAsync("tasks.add", 2, 2);

        Assert.Equal(4, (await sent.GetAsync(Patience))!.GetValue<long>());
    }
}
