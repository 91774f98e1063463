using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Configuration;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Node.Beat;
using ClusterQueue.Tests.Node;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Node.Beat;

/// <summary>
/// Three beat members in one process (three actor systems on loopback) sharing one SQLite state file and one memory
/// broker: the schedule runs once, from one member, and when that member dies another takes over without a repeated
/// or a missed run.
/// </summary>
public sealed class BeatFailoverTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncDisposable
{
    private const string Queue = "beat-test";

    // Fifteen one-second periods: long enough for a takeover (failure detection, 2 s of stable-after, removal) to fall
    // well inside the window with periods on both sides of it, short enough for a two-core test machine.
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly string directory = Directory.CreateTempSubdirectory("cq-beat-").FullName;
    private readonly ClusterQueueApp app = ClusterQueueApp.Open(new BrokerSettings { Url = $"memory://beat-{Guid.NewGuid():N}" });
    private readonly ConcurrentQueue<(int Node, DateTimeOffset Slot, string TaskId, DateTimeOffset SentAt)> runs = new();
    private readonly List<BeatNode?> nodes = [];

    // A member that dies is downed by the split-brain resolver once the failure detector has given up on it and the
    // membership has been stable for stable-after; both are lowered so the takeover fits the window. Terminating an
    // actor system must not leave the cluster here, so that terminating one is a crash rather than a hand-over.
    private static readonly Akka.Configuration.Config FastDowning = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.cluster.failure-detector.expected-response-after = 200ms
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """);

    [Fact]
    public async Task ThreeBeats_RunEachPeriodOnce_AndKeepCountingWhenTheHolderDies()
    {
        var seedPort = FreePort();
        var settings = new BeatSettings
        {
            StateDb = Path.Combine(directory, "beat.db"),
            HandOverRetryInterval = TimeSpan.FromMilliseconds(200),
            Entries = [new BeatEntry("tick", "tasks.add", new IntervalSchedule(Period)) { Args = [1, 1], Queue = Queue, Expires = TimeSpan.FromMinutes(1) }],
        };
        var seeds = new List<string> { $"akka.tcp://{ClusterSettings.SystemName}@127.0.0.1:{seedPort}" };
        for (var i = 0; i < 3; i++)
        {
            var index = i;
            var cluster = new ClusterSettings { Seeds = seeds, Port = i == 0 ? seedPort : 0, JoinTimeout = TimeSpan.FromSeconds(30) };
            var send = BeatNode.SendWith(app);
            nodes.Add(await BeatNode.StartAsync(
                settings,
                cluster,
                FastDowning.WithFallback(AkkaConfiguration.Reference),
                async (entry, at, ct) =>
                {
                    try
                    {
                        await send(entry, at, ct);
                    }
                    catch (Exception e)
                    {
                        output.WriteLine($"member {index}: sending slot {at:HH:mm:ss.fff} failed: {e}");
                        throw;
                    }

                    runs.Enqueue((index, at, entry.TaskId(at), DateTimeOffset.UtcNow));
                },
                NullLoggerFactory.Instance));
        }

        await WorkerHarness.EventuallyAsync(() => !runs.IsEmpty, "the first run", TimeSpan.FromSeconds(30));
        var windowStart = runs.First().Slot;
        var holder = runs.First().Node;

        // Half-way through the window, the member that holds the scheduler dies: just after it sent a run, so that the
        // kill is a takeover and not the one documented loss, a run recorded and then not sent because its holder died
        // in the few milliseconds between the two (at most once per slot; see BeatScheduler).
        var half = (int)(Window / Period) / 2;
        await WorkerHarness.EventuallyAsync(() => runs.Count >= half, $"{half} runs", Window);
        var killed = holder;
        output.WriteLine($"killing member {killed} at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
        await nodes[killed]!.System.Terminate();
        output.WriteLine($"member {killed} terminated at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
        nodes[killed] = null;

        // The window is counted by scheduled time, so runs sent late on takeover count in their own period.
        var windowEnd = windowStart + Window;
        await WorkerHarness.EventuallyAsync(() => runs.Any(r => r.Slot >= windowEnd), "a run after the window", Window + TimeSpan.FromSeconds(20));

        foreach (var run in runs.OrderBy(r => r.Slot))
        {
            output.WriteLine($"slot {run.Slot:HH:mm:ss.fff} sent {run.SentAt:HH:mm:ss.fff} by member {run.Node}");
        }

        var slots = runs.Select(r => r.Slot).Order().ToList();
        Assert.Equal(slots.Count, slots.Distinct().Count());
        Assert.All(slots.Zip(slots.Skip(1)), pair => Assert.Equal(Period, pair.Second - pair.First));
        var inWindow = slots.Count(s => s >= windowStart && s < windowEnd);
        Assert.InRange(inWindow, (int)Window.TotalSeconds - 1, (int)Window.TotalSeconds + 1);
        Assert.All(runs.Where(r => r.Slot < windowStart + Window / 4), r => Assert.Equal(killed, r.Node));
        var latest = runs.MaxBy(r => r.SentAt - r.Slot);
        output.WriteLine($"{inWindow} runs in the {Window.TotalSeconds:0} s window; member {killed} killed; the latest run was sent {(latest.SentAt - latest.Slot).TotalSeconds:0.0} s after its slot, by member {latest.Node}");
        var after = runs.Where(r => r.Slot >= windowEnd).Select(r => r.Node).Distinct().ToList();
        Assert.Single(after);
        Assert.NotEqual(killed, after[0]);
        Assert.Equal(runs.Count, runs.Select(r => r.TaskId).Distinct().Count());

        // Every recorded run is a message on the queue, and no other message is.
        await DisposeNodesAsync();
        Assert.Equal(runs.Count, await app.Transport.PurgeQueueAsync(Queue));
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeNodesAsync();
        await app.DisposeAsync();
    }

    private async Task DisposeNodesAsync()
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            if (nodes[i] is { } node)
            {
                nodes[i] = null;
                await node.DisposeAsync();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
