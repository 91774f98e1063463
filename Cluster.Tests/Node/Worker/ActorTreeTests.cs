using Akka.Actor;
using Akka.Configuration;
using ClusterQueue.Config;
using ClusterQueue.Node.Worker;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>The node's actors on Akka.NET: the tree, its settings, the timers and the shutdown phases.</summary>
public sealed class ActorTreeTests() : Akka.TestKit.Xunit2.TestKit(TestConfig)
{
    // The node's own akka section, with the test kit's event listener instead of the host's logging.
    private static readonly Akka.Configuration.Config TestConfig = ConfigurationFactory
        .ParseString("akka.loggers = [\"Akka.TestKit.TestEventListener, Akka.TestKit\"]")
        .WithFallback(AkkaConfiguration.Reference);

    [Fact]
    public async Task Every_actor_of_a_node_stands_in_its_place_in_the_tree()
    {
        await using var worker = await WorkerHarness.StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 2, Queues = ["celery", "video"] });
        var system = worker.Node.ActorSystem;

        string[] paths = [
            "/user/node", "/user/node/state", "/user/node/timers", "/user/node/pool",
            "/user/node/pool/executor-1", "/user/node/pool/executor-2",
            "/user/node/queue-0-celery", "/user/node/queue-0-celery/consumer",
            "/user/node/queue-1-video", "/user/node/queue-1-video/consumer"];
        foreach (var path in paths)
        {
            var identity = await system.ActorSelection(path).Ask<ActorIdentity>(new Identify(path), Patience);
            Assert.True(identity.Subject is not null, $"no actor at {path}");
        }
    }

    [Fact]
    public async Task A_node_runs_its_actor_system_with_its_akka_settings_and_a_drain_phase_as_long_as_its_shutdown_timeout()
    {
        var akka = ConfigurationFactory.ParseString("akka.loglevel = DEBUG").WithFallback(AkkaConfiguration.Reference);
        await using var worker = await WorkerHarness.StartAsync(TestBroker.Memory, new WorkerSettings { AkkaConfig = akka, ShutdownTimeout = TimeSpan.FromSeconds(42) });
        var system = worker.Node.ActorSystem;

        Assert.Equal("DEBUG", system.Settings.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(42 + 30), CoordinatedShutdown.Get(system).Timeout(CoordinatedShutdown.PhaseServiceRequestsDone));
    }

    [Fact]
    public async Task A_warm_shutdown_runs_Akkas_coordinated_shutdown_and_terminates_the_actor_system()
    {
        var worker = await WorkerHarness.StartAsync(TestBroker.Memory);
        var system = worker.Node.ActorSystem;

        await worker.Node.WarmShutdownAsync();

        Assert.IsType<WorkerNode.WarmShutdownReason>(CoordinatedShutdown.Get(system).ShutdownReason);
        Assert.True(system.WhenTerminated.IsCompleted);
        await worker.DisposeAsync();
    }

    [Fact]
    public async Task A_cold_shutdown_gives_its_own_reason_and_exit_code_to_coordinated_shutdown()
    {
        var worker = await WorkerHarness.StartAsync(TestBroker.Memory);
        var system = worker.Node.ActorSystem;

        await worker.Node.ColdShutdownAsync();

        var reason = Assert.IsType<WorkerNode.ColdShutdownReason>(CoordinatedShutdown.Get(system).ShutdownReason);
        Assert.Equal(1, reason.ExitCode);
        Assert.True(system.WhenTerminated.IsCompleted);
        await worker.DisposeAsync();
    }

    [Fact]
    public async Task Timers_reserve_a_held_request_when_it_is_due_and_give_the_others_back_to_the_broker_on_release()
    {
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        await app.DeclareQueueAsync("celery");
        var soon = await app.SendTaskAsync("tasks.add", [1, 2]);
        var later = await app.SendTaskAsync("tasks.add", [3, 4]);
        await using var consumer = await app.Transport.ConsumeAsync("celery", new ConsumeOptions(Prefetch: 10));
        var lease = new QueueLease(consumer, 0, NullLogger.Instance);
        var requests = new Dictionary<string, TaskRequest>();
        for (var i = 0; i < 2; i++)
        {
            var delivery = await consumer.Deliveries.ReadAsync().AsTask().WaitAsync(Patience);
            var message = app.Codec.Decode(delivery.Message);
            Assert.True(app.Tasks.TryGet(message.Task, out var definition));
            requests[message.Id] = new TaskRequest(message, definition, delivery, lease, acksLate: false);
        }

        var node = new NodeServices(new WorkerSettings(), app, "timers@test", NullLoggerFactory.Instance, _ => { }) { State = CreateTestProbe().Ref };
        var timers = Sys.ActorOf(NodeProps.Of(() => new TaskTimers(node)), "timers");
        var pool = CreateTestProbe();
        var due = DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300);

        timers.Tell(new Hold(requests[soon.Id], due, EtaHeld: false, pool.Ref));
        timers.Tell(new Hold(requests[later.Id], DateTimeOffset.UtcNow + TimeSpan.FromHours(1), EtaHeld: false, pool.Ref));

        var reserve = pool.ExpectMsg<Reserve>(Patience);
        Assert.Same(requests[soon.Id], reserve.Request);
        Assert.True(DateTimeOffset.UtcNow >= due, "reserved before it was due");

        timers.Tell(ReleaseHeld.Instance, TestActor);
        Assert.Equal(1, ExpectMsg<Drained>(Patience).Requeued);
        pool.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var redelivered = await consumer.Deliveries.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(later.Id, app.Codec.Decode(redelivered.Message).Id);
        Assert.True(redelivered.Redelivered);
    }
}
