using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

/// <summary>A clock that moves only when a test moves it, so expiry is tested without waiting.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}

/// <summary>The rpc result bodies captured from Celery 5.2.6, exactly as published.</summary>
public static class ResultFixtures
{
    public static readonly string[] Files =
    [
        "result-failure-builtin-exception.json",
        "result-failure-custom-exception.json",
        "task-add-plain-rpc.json",
        "task-expired.json",
    ];

    public static string RpcResultBody(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "results", file);
        var capture = JsonNode.Parse(File.ReadAllText(path))!;
        var message = capture["messages"]!.AsArray().Single(m => (string?)m!["role"] == "rpc result message")!;
        return (string)message["body_raw_utf8"]!;
    }

    /// <summary>The keys of a JSON object in document order, which Celery's readers do not need but its writers keep.</summary>
    public static IReadOnlyList<string> KeysInOrder(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
    }

    public static void AssertSameJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");

    public static TaskResult Failure(string taskId) =>
        TaskResult.Failed(taskId, new ExceptionInfo("ValueError", [JsonValue.Create("intentional failure")], "builtins"), "Traceback (most recent call last):\nValueError: intentional failure\n");
}
