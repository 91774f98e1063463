using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

public class ControlWireTests
{
    public static TheoryData<string> ControlFixtures => new(
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fabric"), "*.json")
            .Select(Path.GetFileName)
            .Where(f => f != "events-catalog.json" && FabricFixtures.Messages(f!).Any(m => m.Role.StartsWith("control request", StringComparison.Ordinal)))
            .Select(f => f!));

    [Theory]
    [MemberData(nameof(ControlFixtures))]
    public void EncodeRequest_ReproducesCapturedBodyBytesAndHeaders(string file)
    {
        foreach (var (captured, _) in FabricFixtures.Exchanges(file))
        {
            var decoded = ControlCodec.DecodeRequest(ToEnvelope(captured));
            var encoded = ControlCodec.EncodeRequest(decoded);

            Assert.Equal(captured.RawBody, FabricTestKit.Text(encoded.Body));
            Assert.Equal(2, encoded.Properties.DeliveryMode);
            Assert.Equal((byte)0, encoded.Properties.Priority);
            Assert.IsType<int>(encoded.Headers["clock"]);
            Assert.Equal((int)captured.Headers["clock"]!, encoded.Headers["clock"]);
            Assert.IsType<double>(encoded.Headers["expires"]);
            Assert.Equal((double)captured.Headers["expires"]!, encoded.Headers["expires"]);
            Assert.Equal(["clock", "expires"], encoded.Headers.Keys);
        }
    }

    [Theory]
    [MemberData(nameof(ControlFixtures))]
    public void EncodeReply_ReproducesCapturedBodyBytesAndHeaders(string file)
    {
        foreach (var (_, captured) in FabricFixtures.Exchanges(file).Where(e => e.Reply is not null))
        {
            var decoded = ControlCodec.DecodeReply(ToEnvelope(captured!));
            var encoded = ControlCodec.EncodeReply(decoded);

            Assert.Equal(captured!.RawBody, FabricTestKit.Text(encoded.Body));
            Assert.Equal(1, encoded.Properties.DeliveryMode);
            Assert.Equal(["ticket", "clock"], encoded.Headers.Keys);
            Assert.Equal((string)captured.Headers["ticket"]!, encoded.Headers["ticket"]);
            Assert.IsType<int>(encoded.Headers["clock"]);
            Assert.Equal((int)captured.Headers["clock"]!, encoded.Headers["clock"]);
        }
    }

    [Fact]
    public void DecodeRequest_ReadsEveryFieldOfACapturedRequest()
    {
        var (captured, _) = FabricFixtures.Exchanges("control-ping-destination-and-pattern.json")[1];

        var request = ControlCodec.DecodeRequest(ToEnvelope(captured));

        Assert.Equal("ping", request.Method);
        Assert.Null(request.Destination);
        Assert.Equal("celery@v.*", request.Pattern);
        Assert.Equal("pcre", request.Matcher);
        Assert.Equal("08641ce1-b96a-4f68-98fe-8e1099caf896", request.Ticket);
        Assert.Equal(new ReplyAddress("reply.celery.pidbox", "2fd242a9-4fd8-30a4-b814-a564f75d3609"), request.ReplyTo);
        Assert.Equal(125, request.Clock);
        Assert.Equal(1795253886.8752854, request.Expires);
    }

    [Fact]
    public void EncodeRequest_WithoutReply_LeavesTicketAndReplyToOut()
    {
        var envelope = ControlCodec.EncodeRequest(new ControlRequest { Method = "revoke", Arguments = new RevokeArguments(["t1"]).ToJson(), Clock = 3 });

        Assert.Equal(
            """{"method": "revoke", "arguments": {"task_id": "t1", "terminate": false, "signal": "SIGTERM"}, "destination": null, "pattern": null, "matcher": null}""",
            FabricTestKit.Text(envelope.Body));
        Assert.Equal(0.0, envelope.Headers["expires"]);
        Assert.False(ControlCodec.DecodeRequest(envelope).WantsReply);
    }

    [Theory]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"arguments\": {}}", "'method'")]
    [InlineData("{\"method\": \"ping\", \"arguments\": [1]}", "'arguments'")]
    [InlineData("{\"method\": \"ping\", \"destination\": \"celery@vm\"}", "'destination'")]
    [InlineData("{\"method\": \"ping\", \"destination\": [1]}", "'destination'")]
    [InlineData("{\"method\": \"ping\", \"pattern\": 5}", "'pattern'")]
    [InlineData("{\"method\": \"ping\", \"reply_to\": \"x\"}", "'reply_to'")]
    [InlineData("{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"e\"}}", "'reply_to.routing_key'")]
    [InlineData("not json", "not valid JSON")]
    public void DecodeRequest_Malformed_ThrowsNamingTheField(string body, string named)
    {
        var error = Assert.Throws<FabricMessageException>(() => ControlCodec.DecodeRequest(new Envelope { Body = System.Text.Encoding.UTF8.GetBytes(body) }));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeRequest_BadClockHeader_ThrowsNamingTheHeader()
    {
        var envelope = new Envelope { Body = "{\"method\": \"ping\"}"u8.ToArray(), Headers = new Dictionary<string, object?> { ["clock"] = "soon" } };

        var error = Assert.Throws<FabricMessageException>(() => ControlCodec.DecodeRequest(envelope));

        Assert.Contains("'clock'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a@x\": 1, \"b@x\": 2}")]
    [InlineData("[]")]
    public void DecodeReply_NotExactlyOneNode_Throws(string body)
    {
        Assert.Throws<FabricMessageException>(() => ControlCodec.DecodeReply(new Envelope { Body = System.Text.Encoding.UTF8.GetBytes(body) }));
    }

    [Fact]
    public void Topology_MatchesTheCapturedDeclarations()
    {
        var topology = new PidboxTopology();
        var captured = File.ReadAllText(FabricFixtures.PathOf("broker-topology.txt"));

        Assert.Equal(new ExchangeDeclaration("celery.pidbox", ExchangeType.Fanout, Durable: false, AutoDelete: false), topology.RequestExchangeDeclaration);
        Assert.Equal(new ExchangeDeclaration("reply.celery.pidbox", ExchangeType.Direct, Durable: false, AutoDelete: false), topology.ReplyExchangeDeclaration);
        Assert.Contains("celery.pidbox\tfanout\tfalse\tfalse", captured, StringComparison.Ordinal);
        Assert.Contains("reply.celery.pidbox\tdirect\tfalse\tfalse", captured, StringComparison.Ordinal);

        var node = topology.NodeQueueDeclaration("celery@vm");
        Assert.Equal("celery@vm.celery.pidbox", node.Name);
        Assert.False(node.Durable);
        Assert.True(node.AutoDelete);
        Assert.Equal(10000, node.Arguments!["x-expires"]);
        Assert.Equal(300000, node.Arguments["x-message-ttl"]);
        Assert.Contains("celery@vm.celery.pidbox\tfalse\ttrue\tfalse\t[{\"x-expires\",10000},{\"x-message-ttl\",300000}]", captured, StringComparison.Ordinal);

        var reply = topology.ReplyQueueDeclaration("af0b7e59-20cd-3b2b-8f1b-675f56f9d2b1");
        Assert.Equal("af0b7e59-20cd-3b2b-8f1b-675f56f9d2b1.reply.celery.pidbox", reply.Name);
        Assert.Equal(node.Arguments, reply.Arguments);
        Assert.False(reply.Durable);
        Assert.True(reply.AutoDelete);
    }

    [Fact]
    public void Topology_FollowsTheControlExchangeSetting()
    {
        var topology = new PidboxTopology(new ControlSettings { Exchange = "app", QueueTtl = TimeSpan.FromSeconds(1), QueueExpires = TimeSpan.FromSeconds(2) });

        Assert.Equal("app.pidbox", topology.RequestExchange);
        Assert.Equal("reply.app.pidbox", topology.ReplyExchange);
        Assert.Equal("n@h.app.pidbox", topology.NodeQueue("n@h"));
        Assert.Equal(1000, topology.QueueArguments["x-message-ttl"]);
        Assert.Equal(2000, topology.QueueArguments["x-expires"]);
    }

    [Fact]
    public void Topology_ZeroTtl_IsRejectedByName()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PidboxTopology(new ControlSettings { QueueTtl = TimeSpan.Zero }));

        Assert.Contains("QueueTtl", error.Message, StringComparison.Ordinal);
    }

    internal static Envelope ToEnvelope(FixtureMessage message)
    {
        var headers = new Dictionary<string, object?>();
        foreach (var (key, value) in message.Headers)
        {
            headers[key] = (string)message.HeaderTypes[key]! switch
            {
                "I" => (object)value!.GetValue<int>(),
                "d" => value!.GetValue<double>(),
                "S" => value!.GetValue<string>(),
                var other => throw new InvalidOperationException($"header type {other} not expected in control fixtures"),
            };
        }

        return new Envelope { Body = System.Text.Encoding.UTF8.GetBytes(message.RawBody), Headers = headers };
    }
}
