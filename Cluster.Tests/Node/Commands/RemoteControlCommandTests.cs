using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node;
using ClusterQueue.Tests.Fabric;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>
/// <c>inspect</c>, <c>control</c> and <c>status</c> in process, against pidbox nodes on the kit's memory broker that
/// answer with the replies a Celery 5.2.6 worker gave in the fixtures.
/// </summary>
public sealed class RemoteControlCommandTests : IAsyncLifetime
{
    // Long enough for a busy machine; calls naming their destinations end as soon as those nodes replied.
    private const string Patient = "30";

    // For calls that must time out with nobody answering.
    private const string Brief = "0.5";

    private readonly CommandTestKit kit = new();
    private readonly List<ReplayNode> nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }

        await kit.DisposeAsync();
    }

    public static TheoryData<string[], string> InspectCalls => new()
    {
        { ["active"], "active" },
        { ["reserved"], "reserved" },
        { ["scheduled"], "scheduled" },
        { ["revoked"], "revoked" },
        { ["registered"], "registered" },
        { ["stats"], "stats" },
        { ["active_queues"], "active_queues" },
        { ["conf"], "conf" },
        { ["clock"], "clock" },
        { ["ping"], "ping" },
        { ["query_task", "c111fb3e-1617-42b3-bbc1-7b85922f869c"], "query_task" },
    };

    [Theory]
    [MemberData(nameof(InspectCalls))]
    public async Task Inspect_SendsCeleryArguments_AndPrintsEachReplyThenTheNodeCount(string[] call, string method)
    {
        var node = await StartAsync("celery@a");
        var (arguments, _) = ReplayNode.Recorded(method);

        var run = await RunAsync(["inspect", .. call, "-d", "celery@a", "-t", Patient]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        FabricFixtures.AssertJson(arguments, Assert.Single(node.Received).Arguments);
        var nl = Environment.NewLine;
        var header = $"->  celery@a: OK{nl}";
        var footer = $"{nl}{nl}1 node online.{nl}";
        Assert.StartsWith(header, run.Output, StringComparison.Ordinal);
        Assert.EndsWith(footer, run.Output, StringComparison.Ordinal);
        CeleryCliOutput.AssertBody(method, run.Output[header.Length..^footer.Length]);
    }

    public static TheoryData<string[], string> ControlCalls => new()
    {
        { ["revoke", "0824f6c1-297b-4526-8b8c-3a6b514ae977"], "revoke" },
        { ["rate_limit", "tasks.add", "10/s"], "rate_limit" },
        { ["time_limit", "tasks.add", "10", "20"], "time_limit" },
        { ["add_consumer", "extra"], "add_consumer" },
        { ["cancel_consumer", "extra"], "cancel_consumer" },
        { ["pool_grow"], "pool_grow" },
        { ["pool_shrink", "1"], "pool_shrink" },
        { ["enable_events"], "enable_events" },
        { ["disable_events"], "disable_events" },
        { ["heartbeat"], "heartbeat" },
    };

    [Theory]
    [MemberData(nameof(ControlCalls))]
    public async Task Control_SendsCeleryArguments_AndPrintsTheReply(string[] call, string method)
    {
        var node = await StartAsync("celery@a");
        var (arguments, _) = ReplayNode.Recorded(method);

        var run = await RunAsync(["control", .. call, "-d", "celery@a", "-t", Patient]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var sent = Assert.Single(node.Received);
        Assert.Equal(method, sent.Method);
        Assert.True(JsonNode.DeepEquals(arguments, sent.Arguments), $"sent {sent.Arguments.ToJsonString()}, Celery sends {arguments.ToJsonString()}");
        var nl = Environment.NewLine;
        var header = $"->  celery@a: OK{nl}";
        Assert.StartsWith(header, run.Output, StringComparison.Ordinal);
        Assert.EndsWith(nl, run.Output, StringComparison.Ordinal);
        CeleryCliOutput.AssertBody(method, run.Output[header.Length..^nl.Length]);
    }

    [Fact]
    public async Task Control_Revoke_ManyIdsWithTerminate_SendsTheListAndTheSignal()
    {
        var node = await StartAsync("celery@a");

        var run = await RunAsync("control", "revoke", "id-1", "id-2", "--terminate", "--signal", "kill", "-d", "celery@a", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        FabricFixtures.AssertJson(
            new JsonObject { ["task_id"] = new JsonArray("id-1", "id-2"), ["terminate"] = true, ["signal"] = "SIGKILL" },
            Assert.Single(node.Received).Arguments);
    }

    [Fact]
    public async Task Inspect_RegisteredItems_AndConfWithDefaults_AreSentAsArguments()
    {
        var node = await StartAsync("celery@a");

        Assert.Equal(ExitCodes.Ok, (await RunAsync("inspect", "registered", "rate_limit", "time_limit", "-d", "celery@a", "-t", Patient)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("inspect", "conf", "--with-defaults", "-d", "celery@a", "-t", Patient)).ExitCode);

        Assert.Collection(
            node.Received,
            registered => FabricFixtures.AssertJson(new JsonObject { ["taskinfoitems"] = new JsonArray("rate_limit", "time_limit") }, registered.Arguments),
            conf => FabricFixtures.AssertJson(new JsonObject { ["with_defaults"] = true }, conf.Arguments));
    }

    [Fact]
    public async Task RemoteControlOptions_MayComeBeforeTheSubcommand()
    {
        var node = await StartAsync("celery@a");

        var run = await CommandTestKit.RunAsync("inspect", "--broker", kit.BrokerUrl, "-t", Patient, "-d", "celery@a", "--json", "clock");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("{\"celery@a\":{\"clock\":185}}" + Environment.NewLine, run.Output);
        Assert.Equal("clock", Assert.Single(node.Received).Method);
    }

    [Fact]
    public async Task Control_NodeRefuses_PrintsItsErrorAndExits1()
    {
        // Celery's own answer to rate_limit tasks.add 10/x.
        var (_, refusal) = FabricFixtures.Pair("control-rate-limit-invalid.json", "rate_limit");
        await StartAsync("celery@a", new Dictionary<string, JsonNode?> { ["rate_limit"] = refusal });

        var run = await RunAsync("control", "rate_limit", "tasks.add", "10/x", "-d", "celery@a", "-t", Patient);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        var nl = Environment.NewLine;
        Assert.Equal($"->  celery@a: ERROR{nl}        KeyError('x'){nl}", run.Output);
    }

    [Fact]
    public async Task Control_Autoscale_WithoutAutoscaler_PrintsCelerysValueError()
    {
        await StartAsync("celery@a");

        var run = await RunAsync("control", "autoscale", "4", "1", "-d", "celery@a", "-t", Patient);

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("->  celery@a: ERROR", run.Output, StringComparison.Ordinal);
        Assert.Contains("        ValueError('Autoscale not enabled')", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_Shutdown_ReachesTheNamedNodeOnly_AndExits0WithoutWaitingForAReply()
    {
        var a = await StartAsync("celery@a");
        var b = await StartAsync("celery@b");

        var run = await RunAsync("control", "shutdown", "-d", "celery@b");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("shutdown sent to celery@b", run.Output, StringComparison.Ordinal);
        var request = await b.Shutdown.WaitAsync(CommandTestKit.Generous);
        Assert.Null(request.Ticket);

        // A ping to both afterwards is handled after the shutdown in each mailbox, so a has seen everything meant for it.
        Assert.Equal(ExitCodes.Ok, (await RunAsync("inspect", "ping", "-d", "celery@a,celery@b", "-t", Patient)).ExitCode);
        Assert.DoesNotContain(a.Received, r => r.Method == "shutdown");
    }

    [Fact]
    public async Task Status_ListsEveryNodeThatAnswers_ThenTheCount()
    {
        await StartAsync("celery@a");
        await StartAsync("celery@b");

        var run = await RunAsync("status", "-d", "celery@a,celery@b", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var nl = Environment.NewLine;
        var lines = run.Output.Split(nl);
        Assert.Equal(["->  celery@a: OK", "->  celery@b: OK"], lines.Take(2).Order(StringComparer.Ordinal));
        Assert.Equal($"{nl}{nl}2 nodes online.{nl}", run.Output[run.Output.IndexOf(nl + nl, StringComparison.Ordinal)..]);
    }

    [Fact]
    public async Task Status_WithoutDestination_GathersUntilTheTimeout_AndFindsEveryNode()
    {
        await StartAsync("celery@a");
        await StartAsync("celery@b");

        var run = await RunAsync("status", "-t", "10");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("->  celery@a: OK", run.Output, StringComparison.Ordinal);
        Assert.Contains("->  celery@b: OK", run.Output, StringComparison.Ordinal);
        Assert.EndsWith("2 nodes online." + Environment.NewLine, run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("inspect", "ping")]
    [InlineData("inspect", "active")]
    [InlineData("control", "heartbeat")]
    [InlineData("control", "rate_limit", "tasks.add", "10/s")]
    public async Task NoNodeReplies_Exits69WithCelerysMessage(params string[] call)
    {
        var run = await RunAsync([.. call, "-t", Brief]);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Contains("No nodes replied within time constraint", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destination_OnlyTheNamedNodeActs()
    {
        var a = await StartAsync("celery@a");
        var b = await StartAsync("celery@b");

        var run = await RunAsync("control", "rate_limit", "tasks.add", "10/s", "-d", "celery@b", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("->  celery@b: OK", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("celery@a", run.Output, StringComparison.Ordinal);
        Assert.Single(b.Received);

        // The broadcast reached a's mailbox too; a ping that a answers is handled after it there.
        Assert.Equal(ExitCodes.Ok, (await RunAsync("inspect", "ping", "-d", "celery@a", "-t", Patient)).ExitCode);
        Assert.Equal(["ping"], a.Received.Select(r => r.Method));
    }

    [Fact]
    public async Task Destination_NamingAMissingNode_Exits69()
    {
        await StartAsync("celery@a");

        var run = await RunAsync("inspect", "ping", "-d", "celery@nobody", "-t", Brief);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
    }

    [Fact]
    public async Task InspectJson_IsOneObjectKeyedByNode()
    {
        await StartAsync("celery@a");
        await StartAsync("celery@b");

        var run = await RunAsync("inspect", "clock", "--json", "-d", "celery@a,celery@b", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var printed = JsonNode.Parse(run.Output)!.AsObject();
        Assert.Equal(["celery@a", "celery@b"], printed.Select(p => p.Key).Order(StringComparer.Ordinal));
        FabricFixtures.AssertJson(new JsonObject { ["clock"] = 185 }, printed["celery@a"]);
    }

    [Fact]
    public async Task ControlJson_IsAListOfOneNodeObjects_AsCelerysBroadcastReturns()
    {
        await StartAsync("celery@a");

        var run = await RunAsync("control", "heartbeat", "-j", "-d", "celery@a", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("[{\"celery@a\":null}]" + Environment.NewLine, run.Output);
    }

    [Fact]
    public async Task StatusJson_IsOneObjectKeyedByNode_WithoutTheCountLine()
    {
        await StartAsync("celery@a");

        var run = await RunAsync("status", "--json", "-d", "celery@a", "-t", Patient);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("{\"celery@a\":{\"ok\":\"pong\"}}" + Environment.NewLine, run.Output);
    }

    [Theory]
    [InlineData("control", "rate_limit", "tasks.add")]
    [InlineData("control", "time_limit", "tasks.add")]
    [InlineData("control", "time_limit", "tasks.add", "-1")]
    [InlineData("control", "revoke")]
    [InlineData("control", "revoke", "id-1", "--signal", "no such")]
    [InlineData("control", "revoke", "id-1", "--signal", "9")]
    [InlineData("control", "add_consumer")]
    [InlineData("control", "add_consumer", "q", "ex", "bogus")]
    [InlineData("control", "cancel_consumer")]
    [InlineData("control", "pool_grow", "many")]
    [InlineData("control", "pool_shrink", "0")]
    [InlineData("control", "autoscale", "4")]
    [InlineData("control", "autoscale", "1", "4")]
    [InlineData("control", "no_such_cmd")]
    [InlineData("control")]
    [InlineData("inspect", "query_task")]
    [InlineData("inspect", "bogus")]
    [InlineData("inspect", "ping", "--timeout", "-2")]
    [InlineData("inspect", "ping", "--timeout", "soon")]
    [InlineData("inspect")]
    [InlineData("status", "extra")]
    public async Task BadArguments_AreUsageErrors_AndSendNothing(params string[] call)
    {
        var node = await StartAsync("celery@a");

        var run = await RunAsync(call);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("Usage:", run.Error, StringComparison.Ordinal);

        // Had the bad call sent anything, the node would have handled it before this ping.
        Assert.Equal(ExitCodes.Ok, (await RunAsync("inspect", "ping", "-d", "celery@a", "-t", Patient)).ExitCode);
        Assert.Equal(["ping"], node.Received.Select(r => r.Method));
    }

    [Fact]
    public async Task EmptyDestinationName_IsAUsageErrorNamingTheOption()
    {
        var run = await RunAsync("inspect", "ping", "-d", "celery@a,,celery@b");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--destination", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadBrokerUrl_IsAConfigErrorNamingTheSetting()
    {
        var run = await CommandTestKit.RunAsync("status", "--broker", "nosuch://host");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains("cluster-queue.broker.url", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableBroker_Exits69NamingTheBroker()
    {
        // A port that was free a moment ago: nothing listens there, so the connection is refused at once.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await CommandTestKit.RunAsync("status", "--broker", $"amqp://guest:secret@127.0.0.1:{port}/", "-t", Brief);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Contains($"broker unavailable: cannot connect to RabbitMQ at amqp://guest:****@127.0.0.1:{port}/", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inspect", "active", "reserved", "scheduled", "revoked", "registered", "stats", "active_queues", "conf", "clock", "query_task", "ping")]
    [InlineData("control", "revoke", "rate_limit", "time_limit", "add_consumer", "cancel_consumer", "pool_grow", "pool_shrink", "autoscale", "enable_events", "disable_events", "shutdown", "heartbeat")]
    public async Task Help_ListsEverySubcommand_AndTheRemoteControlOptions(string command, params string[] subcommands)
    {
        var run = await CommandTestKit.RunAsync(command, "--help");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("like celery " + command, run.Output, StringComparison.Ordinal);
        foreach (var name in subcommands.Concat(["--destination", "--timeout", "--json", "--broker"]))
        {
            Assert.Contains(name, run.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StatusHelp_SaysWhatItPrintsAndItsExitCode()
    {
        var run = await CommandTestKit.RunAsync("status", "--help");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("nodes online", run.Output, StringComparison.Ordinal);
        Assert.Contains("exits 69", run.Output, StringComparison.Ordinal);
    }

    /// <summary>Runs a command on this test's broker; these commands take no result backend.</summary>
    private Task<CliRun> RunAsync(params string[] call) => CommandTestKit.RunAsync([.. call, "--broker", kit.BrokerUrl]);

    private async Task<ReplayNode> StartAsync(string name, IReadOnlyDictionary<string, JsonNode?>? overrides = null)
    {
        var node = await ReplayNode.StartAsync(kit.OpenBroker(), name, overrides);
        nodes.Add(node);
        return node;
    }
}

/// <summary>What Celery 5.2.6's <c>inspect</c>/<c>control</c> printed for the fixture replies (Fixtures/cli, made with its <c>CLIContext.pretty</c>).</summary>
internal static class CeleryCliOutput
{
    private static readonly JsonObject Printed =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cli", "celery-cli-output.json")))!.AsObject();

    /// <summary>Checks the lines printed under the node line against Celery's, character for character.</summary>
    public static void AssertBody(string method, string printedBody) => Assert.Equal((string)Printed[method]!["body"]!, printedBody);
}

/// <summary>Edge cases of Celery's <c>pretty</c> that the fixtures do not hold; expected texts made with Celery 5.2.6's <c>CLIContext</c>.</summary>
public sealed class RemoteReplyPrinterTests
{
    [Theory]
    [InlineData("{\"ok\": \"\"}", true, "    ")]
    [InlineData("{\"ok\": \"two\\nlines\\n\"}", true, "    two\n    lines\n    ")]
    [InlineData("{\"error\": \"no\", \"ok\": \"yes\"}", true, "    yes")]
    [InlineData("{\"error\": [\"a\", 1]}", false, "    * a\n    * 1")]
    [InlineData("[]", true, "- empty -")]
    [InlineData("[null, true, 1.5, {\"k\": [\"v\"]}]", true, "* None\n* True\n* 1.5\n* {'k': ['v']}")]
    [InlineData("{\"b\": {}, \"a\": []}", true, "{\n    \"a\": [],\n    \"b\": {}\n}")]
    [InlineData("false", true, "False")]
    public void Pretty_MatchesCelery(string reply, bool ok, string body)
    {
        var printed = ClusterQueue.Node.Commands.RemoteReplyPrinter.Pretty(JsonNode.Parse(reply));

        Assert.Equal((ok, body), printed);
    }
}
