using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Interop;

/// <summary>msgpack, yaml and compressed task messages between Python Celery and ClusterQueue on RabbitMQ, both ways.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class SerializerInteropTests
{
    /// <summary>What tasks.echo returns for the values both sides send: one of each Python type, a whole float, and strings YAML 1.1 would misread if plain.</summary>
    internal static readonly JsonNode EchoExpected = JsonNode.Parse(
        """[[1, 2.5, "h\u00e9llo \ud83d\ude00", [1, {"a": null}], true, "yes", "null", "1e3"], {"big": 9223372036854775807, "neg": -129, "f": 1.0}]""")!;

    [Theory]
    [InlineData("msgpack", "zlib")]
    [InlineData("msgpack", "bzip2")]
    [InlineData("yaml", "gzip")]
    [InlineData("msgpack", "brotli")]
    public async Task A_Python_client_sending_with_a_serializer_and_compression_is_served_by_our_worker(string serializer, string compression)
    {
        // The worker accepts only this serializer, so a JSON message could not pass for it.
        var vhost = AmqpTestBroker.NewVhost();
        var app = ClusterQueueApp.Open(
            AmqpTestBroker.Settings(vhost),
            new ResultSettings { Backend = "rpc://" },
            new PublishSettings { AcceptContent = [serializer] },
            WorkerHarness.Registry());
        try
        {
            await using var harness = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 2 });

            var printed = await PythonCelery.RunClientAsync(
                AmqpTestBroker.UrlOf(vhost),
                "echo_types",
                new Dictionary<string, string> { ["CQ_INTEROP_SERIALIZER"] = serializer, ["CQ_INTEROP_COMPRESSION"] = compression });

            Assert.Equal(serializer, printed["serializer"]!.GetValue<string>());
            Assert.Equal(4, printed["add"]!.GetValue<int>());
            Assert.True(JsonNode.DeepEquals(EchoExpected, printed["echo"]), $"echo returned {printed["echo"]?.ToJsonString()}");
            Assert.Equal(0, harness.Node.Stats.Rejected);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Our_client_sending_msgpack_zlib_yaml_bzip2_and_msgpack_brotli_is_served_by_a_Python_worker()
    {
        var vhost = AmqpTestBroker.NewVhost();
        await using var worker = await PythonCeleryWorker.StartAsync(
            AmqpTestBroker.UrlOf(vhost),
            environment: new Dictionary<string, string> { ["CQ_INTEROP_ACCEPT"] = "json,msgpack,yaml" });
        await using var client = ClusterQueueApp.Open(
            AmqpTestBroker.Settings(vhost),
            new ResultSettings { Backend = "rpc://" },
            new PublishSettings { Serializer = "msgpack", Compression = "zlib" });

        var byDefault = await client.SendTaskAsync("tasks.add", [2, 2]);
        var echoed = await client.SendTaskAsync("tasks.echo", EchoArgs(), EchoKwargs());
        var echoedYaml = await client.SendTaskAsync("tasks.echo", EchoArgs(), EchoKwargs(), new SendOptions { Serializer = "yaml", Compression = "bzip2" });
        var yaml = await client.SendTaskAsync("tasks.add", [20, 22], options: new SendOptions { Serializer = "yaml", Compression = "bzip2" });
        var brotli = await client.SendTaskAsync("tasks.mul", [6, 7], options: new SendOptions { Compression = "brotli" });

        Assert.Equal(4, await byDefault.GetAsync<long>(PythonCelery.Patience));
        var echo = await echoed.GetAsync(PythonCelery.Patience);
        Assert.True(JsonNode.DeepEquals(EchoExpected, echo), $"echo returned {echo?.ToJsonString()}");
        var echoYaml = await echoedYaml.GetAsync(PythonCelery.Patience);
        Assert.True(JsonNode.DeepEquals(EchoExpected, echoYaml), $"echo over yaml returned {echoYaml?.ToJsonString()}");
        Assert.Equal(42, await yaml.GetAsync<long>(PythonCelery.Patience));
        Assert.Equal(42, await brotli.GetAsync<long>(PythonCelery.Patience));
        Assert.DoesNotContain("ContentDisallowed", worker.Output, StringComparison.Ordinal);
    }

    internal static JsonArray EchoArgs() => [1, 2.5, "héllo 😀", new JsonArray(1, new JsonObject { ["a"] = null }), true, "yes", "null", "1e3"];

    internal static JsonObject EchoKwargs() => new() { ["big"] = long.MaxValue, ["neg"] = -129, ["f"] = 1.0 };
}
