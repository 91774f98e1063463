using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Commands;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Pool;

/// <summary>
/// Autoscale on a real worker, seen through <c>inspect stats</c>: <c>--autoscale 4,2</c> grows to 4 under a backlog
/// and, one second (the keepalive) after the backlog is done, shrinks back to 2, on both pools.
/// </summary>
public sealed class AutoscalePoolTests
{
    private const int Backlog = 8;

    private static readonly AutoscaleSettings FourTwo = new() { Max = 4, Min = 2, Keepalive = TimeSpan.FromSeconds(1) };

    /// <remarks>
    /// With <c>-O fair</c> the node reserves about what its slots up to max could start rather than the whole backlog;
    /// a capacity update can cross a delivery in flight, so it may hold a few more than four.
    /// </remarks>
    [Theory]
    [InlineData("default")]
    [InlineData("fair")]
    public async Task Threads_pool_grows_to_max_under_a_backlog_and_back_to_min_when_idle(string optimization)
    {
        var broker = NewBroker(TestBroker.Memory);
        await using var node = await AutoscaledNode.StartAsync(broker, Registry(), new WorkerSettings { Autoscale = FourTwo, Optimization = optimization });
        await node.AssertAutoscalerAsync(current: 2, qty: 0);

        var key = TestTasks.NewKey("autoscale");
        var sent = new List<AsyncResult>();
        for (var i = 0; i < Backlog; i++)
        {
            sent.Add(await node.Worker.SendAsync("test.count", key));
        }

        Func<int, bool> held = optimization == "fair" ? qty => qty >= 4 : qty => qty == Backlog;
        await node.AwaitAutoscalerAsync(current: 4, held, "the pool at max under the backlog");
        await EventuallyAsync(() => TestTasks.Count(key).Current == 4, "four tasks running at once");
        TestTasks.Open(key);

        var most = new List<long>();
        foreach (var result in sent)
        {
            var stored = await node.Worker.ResultAsync(result.Id);
            Assert.Equal(TaskStates.Success, stored.Status);
            most.Add(stored.Result!.GetValue<long>());
        }

        // Capped at max: never more than four ran at once.
        Assert.Equal(4, most.Max());
        await node.AwaitAutoscalerAsync(current: 2, qty => qty == 0, "the pool back at min after the keepalive");
        node.AssertOneSuccessEach(sent);
    }

    [Fact]
    public async Task Prefork_pool_grows_to_max_children_under_a_backlog_and_back_to_min_when_idle()
    {
        var app = TaskAssemblyCompiler.Compile(Path.Combine(Directory.CreateTempSubdirectory("cq-autoscale-").FullName, "PoolTasks.dll"), TaskAssemblyCompiler.PoolTasks());
        var gate = Path.Combine(Path.GetDirectoryName(app)!, "open");
        var broker = NewBroker(TestBroker.Memory);
        await using var node = await AutoscaledNode.StartAsync(broker, TaskAssemblies.Load(app), new WorkerSettings { Autoscale = FourTwo, Pool = "prefork", App = app });
        await node.AssertAutoscalerAsync(current: 2, qty: 0);

        var sent = new List<AsyncResult>();
        for (var i = 0; i < Backlog; i++)
        {
            sent.Add(await node.Worker.SendAsync("tasks.wait_file", gate));
        }

        await node.AwaitAutoscalerAsync(current: 4, qty => qty == Backlog, "the pool at max with the whole backlog held");
        await EventuallyAsync(() => node.Worker.Stats.Active == 4, "four tasks running at once");
        await File.WriteAllTextAsync(gate, "");

        var pids = new List<long>();
        foreach (var result in sent)
        {
            var stored = await node.Worker.ResultAsync(result.Id);
            Assert.Equal(TaskStates.Success, stored.Status);
            pids.Add(stored.Result!.GetValue<long>());
        }

        // The first four ran at once, so four children really ran them.
        Assert.True(pids.Distinct().Count() >= 4, $"{pids.Distinct().Count()} distinct children ran the backlog");
        await node.AwaitAutoscalerAsync(current: 2, qty => qty == 0, "the pool back at min after the keepalive");
        node.AssertOneSuccessEach(sent);
    }

    /// <summary>A worker with autoscale on a broker, and a control client on a connection of its own.</summary>
    private sealed class AutoscaledNode : IAsyncDisposable
    {
        private readonly ClusterQueueApp _clientApp;
        private readonly PidboxClient _client;

        private AutoscaledNode(TestWorker worker, ClusterQueueApp clientApp)
        {
            Worker = worker;
            _clientApp = clientApp;
            _client = new PidboxClient(clientApp.Transport, new ControlSettings { ReplyTimeout = TimeSpan.FromSeconds(5) });
        }

        public TestWorker Worker { get; }

        public static async Task<AutoscaledNode> StartAsync(BrokerSettings broker, TaskRegistry tasks, WorkerSettings settings)
        {
            var app = OpenApp(broker, tasks);
            TestWorker worker;
            try
            {
                worker = new TestWorker(await WorkerTestHarness.StartAsync(app, settings), app);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            return new AutoscaledNode(worker, OpenApp(broker, tasks));
        }

        public async Task<JsonObject> StatsAsync()
        {
            var replies = await _client.BroadcastAsync("stats", ControlCommands.InspectArguments("stats"), ControlTarget.Nodes(Worker.Node.Name), limit: 1, timeout: Patience);
            return Assert.IsType<JsonObject>(Assert.Single(replies).Value);
        }

        /// <summary>Celery's <c>autoscaler</c> stats now, and the pool's size, which must agree.</summary>
        public async Task AssertAutoscalerAsync(int current, int qty)
        {
            var stats = await StatsAsync();
            Assert.True(
                JsonNode.DeepEquals(new JsonObject { ["max"] = 4, ["min"] = 2, ["current"] = current, ["qty"] = qty }, stats["autoscaler"]),
                $"autoscaler stats: {stats["autoscaler"]?.ToJsonString()}");
            Assert.Equal(current, (int)stats["pool"]!["max-concurrency"]!);
        }

        public Task AwaitAutoscalerAsync(int current, Func<int, bool> qty, string what) =>
            EventuallyAsync(
                async () =>
                {
                    var stats = await StatsAsync();
                    return (int)stats["autoscaler"]!["current"]! == current && qty((int)stats["autoscaler"]!["qty"]!)
                        && (int)stats["pool"]!["max-concurrency"]! == current;
                },
                what);

        public void AssertOneSuccessEach(IEnumerable<AsyncResult> sent) =>
            Assert.All(sent, result => Assert.Single(Worker.EventsOf(result.Id), e => e.Kind == TaskEventKind.Succeeded));

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _clientApp.DisposeAsync();
            await Worker.DisposeAsync();
        }
    }
}
