using Akka.Actor;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Steps;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Steps;

/// <summary>User bootsteps in a worker node: their order, their actors, their stop after the last task, and a failed start.</summary>
public sealed class WorkerStepTests
{
    [Fact]
    public async Task A_step_adds_an_actor_under_the_node_and_the_steps_start_in_order_before_consuming_and_stop_in_reverse_after_the_last_task()
    {
        var log = new OrderLog();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Registry(registry =>
        {
            registry.Register("step.record", (string what) => log.Add(what));
            registry.Register("step.hold", async (CancellationToken cancellationToken) =>
            {
                await gate.Task.WaitAsync(cancellationToken);
                log.Add("task finished");
            });
        });
        await using var app = OpenApp(NewBroker(TestBroker.Memory), tasks);
        // Waiting before the node starts: it must not run until both steps have started.
        var early = await app.ApplyAsync("step.record", ["task ran"]);
        var echo = new RecordingStep("echo", [], log) { ActorName = "step-echo" };
        var cache = new RecordingStep("cache", ["echo", BuiltInSteps.Pool], log);

        // Given dependent first: the order comes from Requires, not from the list.
        await using var worker = await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 1 }, null, WorkerSteps.Order([cache, echo]));
        await worker.WaitForResultAsync(early.Id);

        var identity = await worker.Node.ActorSystem.ActorSelection("/user/node/step-echo").Ask<ActorIdentity>(new Identify(1), Patience);
        Assert.NotNull(identity.Subject);
        Assert.Equal(echo.Actor, identity.Subject);
        Assert.Equal("hello", await identity.Subject.Ask<string>("hello", Patience));

        var held = await app.ApplyAsync("step.hold", []);
        await worker.WaitForEventAsync(held.Id, TaskEventKind.Started);
        // With the one slot busy this one stays reserved; the drain gives it back to the broker just before it waits
        // for the running task, so its return shows that the shutdown has reached that wait.
        await app.ApplyAsync("step.record", ["never runs"]);
        await EventuallyAsync(() => worker.Node.Stats.Reserved == 1, "the second task to be reserved");
        var stopping = worker.Node.WarmShutdownAsync();
        await EventuallyAsync(() => worker.Node.Stats.Reserved == 0, "the drain to give the reserved task back");
        Assert.DoesNotContain(log.Snapshot(), entry => entry.StartsWith("stop", StringComparison.Ordinal));
        gate.SetResult();
        await stopping.WaitAsync(Patience);

        Assert.Equal(["start echo", "start cache", "task ran", "task finished", "stop cache", "stop echo"], log.Snapshot());
        Assert.True(echo.ActorAliveAtStop, "the step's actor had stopped before the step did");
        Assert.True(worker.Node.ActorSystem.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task A_step_that_throws_at_start_stops_the_worker_naming_the_step_and_the_steps_before_it_are_stopped()
    {
        var log = new OrderLog();
        var logs = new CapturingLoggerProvider();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var tasks = Registry(registry => registry.Register("step.record", (string what) => log.Add(what)));
        await using var app = OpenApp(NewBroker(TestBroker.Memory), tasks);
        await app.ApplyAsync("step.record", ["task ran"]);
        var first = new RecordingStep("first", [], log);
        var broken = new RecordingStep("broken", ["first"], log) { StartFailure = new InvalidOperationException("no licence key") };
        var settings = new WorkerSettings { Concurrency = 1, StateDb = "", Fabric = new() { Mingle = new() { Enabled = false } } };
        var system = ActorSystem.Create(WorkerNode.ActorSystemName, WorkerNode.ActorSystemConfig(settings));

        var error = await Assert.ThrowsAsync<WorkerStepStartException>(() =>
            WorkerNode.StartAsync(settings, app, logging, observer: null, system, WorkerSteps.Order([first, broken]), CancellationToken.None));

        Assert.Equal("broken", error.StepName);
        Assert.Equal("bootstep 'broken' failed to start: no licence key", error.Message);
        Assert.Equal(["start first", "stop first"], log.Snapshot());
        await system.WhenTerminated.WaitAsync(Patience);
        Assert.Contains(logs.Lines, line => line.Contains("bootstep 'broken' failed to start: no licence key", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cycle_is_refused_naming_the_steps_in_it()
    {
        var log = new OrderLog();
        RecordingStep[] steps = [new("alone", [], log), new("a", ["c"], log), new("b", ["a"], log), new("c", ["b"], log)];

        var error = Assert.Throws<WorkerStepConfigException>(() => WorkerSteps.Order(steps));

        Assert.Equal("bootsteps require each other in a cycle: a -> c -> b -> a", error.Message);
        Assert.Equal(["a", "c", "b"], error.StepNames);
    }

    [Fact]
    public void An_unknown_requirement_is_refused_naming_the_step_and_what_it_requires()
    {
        var error = Assert.Throws<WorkerStepConfigException>(() => WorkerSteps.Order([new RecordingStep("cache", ["redis"], new OrderLog())]));

        Assert.Equal("bootstep 'cache' requires 'redis', which is neither a built-in part of the worker nor a bootstep", error.Message);
        Assert.Equal(["cache", "redis"], error.StepNames);
    }

    [Fact]
    public void Requiring_a_built_in_part_that_starts_after_the_steps_is_refused()
    {
        var error = Assert.Throws<WorkerStepConfigException>(() => WorkerSteps.Order([new RecordingStep("cache", [BuiltInSteps.Consumers], new OrderLog())]));

        Assert.Contains("bootstep 'cache' requires 'consumers', which starts after the bootsteps", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_used_twice_or_by_a_built_in_part_is_refused()
    {
        var log = new OrderLog();

        var twice = Assert.Throws<WorkerStepConfigException>(() => WorkerSteps.Order([new RecordingStep("cache", [], log), new RecordingStep("cache", [], log)]));
        var builtIn = Assert.Throws<WorkerStepConfigException>(() => WorkerSteps.Order([new RecordingStep(BuiltInSteps.Pool, [], log)]));

        Assert.StartsWith("two bootsteps are named 'cache'", twice.Message, StringComparison.Ordinal);
        Assert.StartsWith("bootstep name 'pool'", builtIn.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Independent_steps_keep_the_order_they_were_given_in()
    {
        var log = new OrderLog();
        RecordingStep[] steps = [new("z", [], log), new("needs-z", ["z"], log), new("a", [], log)];

        Assert.Equal(["z", "needs-z", "a"], WorkerSteps.Order(steps).InStartOrder.Select(s => s.Name));
    }

    [Fact]
    public async Task A_hosted_worker_makes_its_step_from_the_container_and_gives_it_the_configuration()
    {
        await using var app = OpenApp(NewBroker(TestBroker.Memory), Registry());
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration["shop:greeting"] = "hello";
        builder.Services.AddSingleton(app);
        builder.Services.AddSingleton<OrderLog>();
        builder.Services.AddClusterQueueWorker(worker => worker
            .WithSettings(new WorkerSettings { Concurrency = 1 })
            .WithStepConfiguration(builder.Configuration)
            .AddStep<ConfiguredStep>());
        using var host = builder.Build();
        var log = host.Services.GetRequiredService<OrderLog>();

        await host.StartAsync();
        var node = host.Services.GetRequiredService<WorkerHostedService>().Node;
        await host.StopAsync().WaitAsync(Patience);

        Assert.Equal([$"start hello on {node.Name}, 1 slot, queues celery", "stop"], log.Snapshot());
    }

    /// <summary>A step whose constructor takes a service, as <c>AddStep&lt;T&gt;</c> allows.</summary>
    private sealed class ConfiguredStep(OrderLog log) : IWorkerStep
    {
        public string Name => "configured";

        public IReadOnlyList<string> Requires => [];

        public Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken)
        {
            log.Add($"start {context.Configuration["shop:greeting"]} on {context.NodeName}, {context.Concurrency} slot, queues {string.Join(",", context.Queues)}");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            log.Add("stop");
            return Task.CompletedTask;
        }
    }

    /// <summary>Entries in the order they happened, from any thread.</summary>
    private sealed class OrderLog
    {
        private readonly List<string> _entries = [];

        public string Add(string entry)
        {
            lock (_entries)
            {
                _entries.Add(entry);
            }

            return entry;
        }

        public List<string> Snapshot()
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>A step that logs its start and stop, may add an echo actor, and may fail its start.</summary>
    private sealed class RecordingStep(string name, IReadOnlyList<string> requires, OrderLog log) : IWorkerStep
    {
        public string Name { get; } = name;

        public IReadOnlyList<string> Requires { get; } = requires;

        public string? ActorName { get; init; }

        public Exception? StartFailure { get; init; }

        public IActorRef? Actor { get; private set; }

        public bool ActorAliveAtStop { get; private set; }

        public async Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken)
        {
            if (StartFailure is { } failure)
            {
                throw failure;
            }

            if (ActorName is { } actorName)
            {
                Actor = await context.SpawnActorAsync(Props.Create(() => new EchoActor()), actorName);
            }

            log.Add($"start {Name}");
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (Actor is { } actor)
            {
                ActorAliveAtStop = await actor.Ask<string>("still there?", Patience) == "still there?";
            }

            log.Add($"stop {Name}");
        }
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => Receive<string>(text => Sender.Tell(text));
    }
}
