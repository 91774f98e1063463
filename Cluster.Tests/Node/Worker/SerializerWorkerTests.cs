using System.Text;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Protocol;
using ClusterQueue.Transport;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Serializers and compression through a running node: what runs, and what is dead-lettered with which reason.</summary>
public sealed class SerializerWorkerTests
{
    private static readonly PublishSettings AllSerializers = new() { AcceptContent = ["json", "msgpack", "yaml"] };

    [Theory]
    [InlineData(TestBroker.Memory, "msgpack", "zlib")]
    [InlineData(TestBroker.Sqlite, "msgpack", "zlib")]
    [InlineData(TestBroker.Memory, "yaml", "bzip2")]
    [InlineData(TestBroker.Sqlite, "yaml", "brotli")]
    [InlineData(TestBroker.Memory, "msgpack", "brotli")]
    [InlineData(TestBroker.Memory, "json", "gzip")]
    public async Task A_task_sent_with_a_serializer_and_compression_runs_and_stores_its_result(TestBroker broker, string serializer, string compression)
    {
        await using var worker = await StartAsync(broker, publish: AllSerializers);

        var sent = await worker.SendAsync("tasks.add", new SendOptions { Serializer = serializer, Compression = compression }, 20, 22);

        Assert.Equal(42, (await worker.ResultAsync(sent.Id)).Result!.GetValue<long>());
    }

    [Fact]
    public async Task A_corrupted_compressed_body_is_dead_lettered_with_the_compression_named_and_the_node_keeps_serving()
    {
        await using var worker = await StartAsync(TestBroker.Memory, publish: AllSerializers);
        var sending = new TaskMessageCodec(worker.App.Codec.Options with { Serializer = "msgpack", Compression = "zlib" });
        var good = sending.Encode(new TaskMessage { Task = "tasks.add", Id = "corrupt-1", Args = [1, 2] });
        var body = good.Body.ToArray();
        for (var i = 2; i < body.Length; i++) body[i] ^= 0xa5;

        await worker.App.Transport.PublishAsync("", "celery", good with { Body = body });
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);
        var after = await worker.SendAsync("tasks.add", new SendOptions { Serializer = "msgpack", Compression = "zlib" }, 20, 22);

        Assert.Equal(42, (await worker.ResultAsync(after.Id)).Result!.GetValue<long>());
        var dead = (await TakeAsync(worker.App.Transport, "celery.dlq", 1)).Single();
        var reason = (string)dead.Message.Headers[DeadLetter.ReasonHeader]!;
        Assert.StartsWith("undecodable message: body is not valid application/x-gzip (zlib) data", reason);
        Assert.Equal(reason, rejected.Reason);
        Assert.Equal("corrupt-1", rejected.TaskId);
        Assert.Null(await worker.App.Results.GetAsync("corrupt-1"));
    }

    [Theory]
    [InlineData("application/x-python-serialize", "\u0080\u0004N.", "Refusing to deserialize pickle (application/x-python-serialize) content")]
    [InlineData("application/x-yaml", "[[!!python/object/apply:os.system ['true']], {}, {}]", "!!python/object/apply:os.system")]
    public async Task Pickle_and_python_yaml_tags_are_dead_lettered_with_a_reason_that_names_them(string contentType, string body, string expected)
    {
        await using var worker = await StartAsync(TestBroker.Memory, publish: AllSerializers);
        var envelope = new Envelope
        {
            Body = Encoding.UTF8.GetBytes(body),
            Headers = new Dictionary<string, object?> { ["task"] = "tasks.add", ["id"] = "refused-1", ["lang"] = "py" },
            Properties = MessageProperties.Json with { ContentType = contentType },
        };

        await worker.App.Transport.PublishAsync("", "celery", envelope);
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);

        Assert.Contains(expected, rejected.Reason);
        Assert.Null(await worker.App.Results.GetAsync("refused-1"));
        var dead = (await TakeAsync(worker.App.Transport, "celery.dlq", 1)).Single();
        Assert.Contains(expected, (string)dead.Message.Headers[DeadLetter.ReasonHeader]!);
    }

    [Fact]
    public async Task A_signed_task_runs_and_a_tampered_one_is_dead_lettered_naming_the_bad_signature()
    {
        using var keys = SigningKeys.Create();
        await using var worker = await StartAsync(TestBroker.Memory, publish: keys.Publish());
        var signed = worker.App.Codec.Encode(new TaskMessage { Task = "tasks.add", Id = "tampered-1", Args = [1, 2] });

        await worker.App.Transport.PublishAsync("", "celery", SigningKeys.Tamper(signed, -3));
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);
        var after = await worker.SendAsync("tasks.add", 20, 22);

        Assert.Equal(42, (await worker.ResultAsync(after.Id)).Result!.GetValue<long>());
        var dead = (await TakeAsync(worker.App.Transport, "celery.dlq", 1)).Single();
        var reason = (string)dead.Message.Headers[DeadLetter.ReasonHeader]!;
        Assert.StartsWith($"undecodable message: body has a bad signature: it does not match the body for certificate '{keys.Load().Signer}'", reason);
        Assert.Equal(reason, rejected.Reason);
        Assert.Equal("tampered-1", rejected.TaskId);
        Assert.Null(await worker.App.Results.GetAsync("tampered-1"));
    }

    [Fact]
    public async Task A_msgpack_message_is_dead_lettered_by_a_node_that_accepts_only_json()
    {
        await using var worker = await StartAsync(TestBroker.Memory);
        var msgpack = new TaskMessageCodec(worker.App.Codec.Options with { Serializer = "msgpack" })
            .Encode(new TaskMessage { Task = "tasks.add", Id = "msgpack-1", Args = new JsonArray(1, 2) });

        await worker.App.Transport.PublishAsync("", "celery", msgpack);
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);

        Assert.Contains("Refusing to deserialize untrusted content of type msgpack (application/x-msgpack)", rejected.Reason);
    }
}
