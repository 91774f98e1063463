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

/// <summary>Chord member returns run side by side, as a worker runs them.</summary>
public static class ChordCalls
{
    /// <summary>
    /// Runs every member's part return on its backend concurrently, at most <paramref name="concurrency"/> at a time
    /// per backend, as in a worker of that concurrency: unbounded, thousands of calls would want more connections
    /// than a database server allows.
    /// </summary>
    public static async Task<bool[]> ReturnAllAsync(string groupId, IEnumerable<(IResultBackend Backend, string MemberId)> calls, int concurrency = 16)
    {
        var slots = new Dictionary<IResultBackend, SemaphoreSlim>(ReferenceEqualityComparer.Instance);
        var running = calls.Select(call =>
        {
            if (!slots.TryGetValue(call.Backend, out var slot))
            {
                slots[call.Backend] = slot = new SemaphoreSlim(concurrency);
            }

            return Task.Run(async () =>
            {
                await slot.WaitAsync();
                try
                {
                    return await call.Backend.ChordPartReturnAsync(groupId, call.MemberId);
                }
                finally
                {
                    slot.Release();
                }
            });
        }).ToList();
        try
        {
            return await Task.WhenAll(running);
        }
        finally
        {
            foreach (var slot in slots.Values)
            {
                slot.Dispose();
            }
        }
    }
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
