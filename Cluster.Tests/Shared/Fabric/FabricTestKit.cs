using System.Text;
using System.Text.Json.Nodes;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Fabric;

/// <summary>A clock the test moves by hand, in a chosen local time zone.</summary>
public sealed class FabricClock(DateTimeOffset start, TimeZoneInfo? zone = null) : TimeProvider
{
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public override TimeZoneInfo LocalTimeZone { get; } = zone ?? TimeZoneInfo.Utc;

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}

/// <summary>One captured message of a fixture scenario.</summary>
public sealed record FixtureMessage(string Role, string Exchange, string RoutingKey, JsonObject Properties, JsonObject Headers, JsonObject HeaderTypes, JsonNode? Body, string RawBody);

/// <summary>The Celery 5.2.6 captures under Fixtures/fabric.</summary>
public static class FabricFixtures
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fabric", file);

    public static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(PathOf(file)))!.AsObject();

    public static IReadOnlyList<FixtureMessage> Messages(string file) =>
        [.. Load(file)["messages"]!.AsArray().Select(m => new FixtureMessage(
            (string)m!["role"]!,
            (string)m["exchange"]!,
            (string)m["routing_key"]!,
            m["properties"]!.AsObject(),
            m["headers"]!.AsObject(),
            m["header_amqp_types"]!.AsObject(),
            m["body"]?.DeepClone(),
            (string)m["body_raw_utf8"]!))];

    /// <summary>The control requests and their replies of a scenario, paired by ticket.</summary>
    public static IReadOnlyList<(FixtureMessage Request, FixtureMessage? Reply)> Exchanges(string file)
    {
        var messages = Messages(file);
        return [.. messages
            .Where(m => m.Role.StartsWith("control request", StringComparison.Ordinal))
            .Select(request => (request, messages.FirstOrDefault(r => r.Role == "control reply" && (string?)r.Headers["ticket"] == (string?)request.Body!["ticket"])))];
    }

    /// <summary>The single request/reply pair of a scenario for <paramref name="method"/>.</summary>
    public static (JsonObject Arguments, JsonNode? ReplyValue) Pair(string file, string method)
    {
        var (request, reply) = Exchanges(file).First(e => (string)e.Request.Body!["method"]! == method);
        var body = reply!.Body!.AsObject();
        return (request.Body!["arguments"]!.AsObject(), body.First().Value?.DeepClone());
    }

    public static bool JsonEqual(JsonNode? expected, JsonNode? actual) => JsonNode.DeepEquals(expected, actual);

    public static void AssertJson(JsonNode? expected, JsonNode? actual) =>
        Assert.Equal(expected?.ToJsonString() ?? "null", actual?.ToJsonString() ?? "null");
}

/// <summary>Shared helpers: a private in-memory broker and bounded awaits.</summary>
public static class FabricTestKit
{
    /// <summary>Generous, because the test machine is small and busy; a passing await finishes in milliseconds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>An unnamed <c>memory://</c> broker of its own, so that tests never see each other's messages.</summary>
    public static ITransport MemoryTransport() => TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });

    public static string Text(ReadOnlyMemory<byte> body) => Encoding.UTF8.GetString(body.Span);

    public static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what} did not happen within {Patience}");
        }
    }

    public static async Task<Delivery> NextAsync(IQueueConsumer consumer)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await consumer.Deliveries.ReadAsync(timeout.Token);
    }
}
