using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterQueue.Tests.Interop;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Python Celery's own <c>app.control</c> and <c>inspect()</c> against our worker node on RabbitMQ.</summary>
[Collection(InteropCollection.Name)]
[Trait("Server", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class PythonControlTests : IAsyncLifetime
{
    // One Python process asks everything, since each start costs seconds on the test machine.
    private const string Script = """
        import json, os, sys
        from celery import Celery
        app = Celery(broker=os.environ["CELERY_BROKER_URL"])
        node = sys.argv[1]
        inspect = app.control.inspect(destination=[node], timeout=20)
        out = {
            "ping": app.control.ping(destination=[node], timeout=20),
            "stats": inspect.stats(),
            "registered": inspect.registered(),
            "active_queues": inspect.active_queues(),
            "active": inspect.active(),
            "clock": inspect.clock(),
            "revoke": app.control.revoke("python-revoked-id", destination=[node], reply=True, timeout=20),
            "revoked": inspect.revoked(),
            "rate_limit": app.control.rate_limit("tasks.add", "5/m", destination=[node], reply=True, timeout=20),
            "unknown": app.control.broadcast("no_such_cmd", destination=[node], reply=True, timeout=20),
        }
        print(json.dumps(out))
        """;

    private readonly ClusterKit _kit = ClusterKit.Create(ClusterBroker.Amqp);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [Fact]
    public async Task Python_inspect_and_control_get_Celery_replies_from_our_node()
    {
        var node = await _kit.StartAsync("dotnet@test");

        var printed = await RunAsync(node.Name);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"dotnet@test": {"ok": "pong"}}]"""), printed["ping"]));
        var stats = printed["stats"]!["dotnet@test"]!.AsObject();
        Assert.Equal(2, (int)stats["pool"]!["max-concurrency"]!);
        Assert.Contains("tasks.add", printed["registered"]!["dotnet@test"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("celery", (string)printed["active_queues"]!["dotnet@test"]![0]!["name"]!);
        Assert.Empty(printed["active"]!["dotnet@test"]!.AsArray());
        Assert.True((long)printed["clock"]!["dotnet@test"]!["clock"]! > 0);
        Assert.Equal("tasks python-revoked-id flagged as revoked", (string)printed["revoke"]![0]!["dotnet@test"]!["ok"]!);
        Assert.Contains("python-revoked-id", printed["revoked"]!["dotnet@test"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("new rate limit set successfully", (string)printed["rate_limit"]![0]!["dotnet@test"]!["ok"]!);
        Assert.Equal("KeyError('no_such_cmd')", (string)printed["unknown"]![0]!["dotnet@test"]!["error"]!);
        Assert.True(node.Revoked.Contains("python-revoked-id"));
    }

    private async Task<JsonObject> RunAsync(string nodeName)
    {
        using var process = Process.Start(PythonCelery.StartInfo(AmqpTestBroker.UrlOf(VhostOf(_kit.Broker.Url)), "-c", Script, nodeName))
            ?? throw new InvalidOperationException($"cannot start {PythonCelery.Interpreter}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(PythonCelery.Patience);
        var text = await output;
        var last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || last is null || JsonNode.Parse(last) is not JsonObject printed)
        {
            throw new InvalidOperationException($"python exited with {process.ExitCode}:\n{text}\n{await errors}");
        }

        return printed;
    }

    private static string VhostOf(string url) => Uri.UnescapeDataString(new Uri(url).AbsolutePath.TrimStart('/'));
}
