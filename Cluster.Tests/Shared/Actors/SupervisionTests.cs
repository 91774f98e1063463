using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class SupervisionTests : ActorTestBase
{
    [Fact]
    public async Task DefaultStrategy_RestartsWithFreshInstanceAndKeepsMailbox()
    {
        var child = Sys.ActorOf(Props.Create(() => new LifecycleActor(TestActor.Ref, "a")), "a");
        Assert.Equal("a:PreStart", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(child, "one");
        Assert.Equal("one", await TestActor.ExpectMsgAsync<string>());

        TestActor.Send(child, new InvalidOperationException("boom"));
        TestActor.Send(child, "after");
        Assert.Equal("a:PreRestart:boom:True", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("a:PostStop", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("a:PostRestart:boom", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("a:PreStart", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("after", await TestActor.ExpectMsgAsync<string>());

        // A fresh instance: the handled count restarted from zero and counts only "after".
        TestActor.Send(child, "count");
        Assert.Equal(1, await TestActor.ExpectMsgAsync<int>());
    }

    [Fact]
    public async Task Resume_KeepsStateAndDropsFailingMessage()
    {
        var supervisor = SupervisorWith(new OneForOneStrategy(_ => Directive.Resume));
        var child = await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "r")), "r");
        Assert.Equal("r:PreStart", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(child, "one");
        TestActor.Send(child, new InvalidOperationException("ignored"));
        TestActor.Send(child, "two");
        Assert.Equal("one", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("two", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(child, "count");
        Assert.Equal(2, await TestActor.ExpectMsgAsync<int>());
    }

    [Fact]
    public async Task Stop_StopsTheFailedChild()
    {
        var supervisor = SupervisorWith(new OneForOneStrategy(_ => Directive.Stop));
        var child = await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "s")), "s");
        TestActor.Watch(child);
        Assert.Equal("s:PreStart", await TestActor.ExpectMsgAsync<string>());
        child.Tell(new InvalidOperationException("fatal"));
        Assert.Equal("s:PostStop", await TestActor.ExpectMsgAsync<string>());
        await TestActor.ExpectTerminatedAsync(child);
    }

    [Fact]
    public async Task Escalate_FailsTheSupervisorWhoseParentRestartsIt()
    {
        var supervisor = Sys.ActorOf(
            Props.Create(() => new LifecycleSupervisor(TestActor.Ref)).WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Escalate)),
            "escalating");
        Assert.Equal("sup:PreStart", await TestActor.ExpectMsgAsync<string>());
        var child = await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "c")), "c");
        Assert.Equal("c:PreStart", await TestActor.ExpectMsgAsync<string>());

        child.Tell(new InvalidOperationException("up"));

        // The supervisor restarts (default strategy of /user), and its default PreRestart stops the child first.
        Assert.Equal("sup:PreRestart:up", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("c:PostStop", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("sup:PreStart", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task AllForOne_RestartsEverySibling()
    {
        var supervisor = SupervisorWith(new AllForOneStrategy(_ => Directive.Restart));
        var first = await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "x")), "x");
        Assert.Equal("x:PreStart", await TestActor.ExpectMsgAsync<string>());
        await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "y")), "y");
        Assert.Equal("y:PreStart", await TestActor.ExpectMsgAsync<string>());

        first.Tell(new InvalidOperationException("one fails"));

        var restarted = new HashSet<string>();
        while (restarted.Count < 2)
        {
            var message = await TestActor.FishForMessageAsync<string>(s => s.Contains(":PostRestart:", StringComparison.Ordinal));
            restarted.Add(message[..1]);
        }

        Assert.Equal(["x", "y"], restarted.Order());
    }

    [Fact]
    public async Task RestartLimit_StopsChildAfterMaxRetriesInWindow()
    {
        var supervisor = SupervisorWith(new OneForOneStrategy(3, TimeSpan.FromMinutes(5), _ => Directive.Restart));
        var child = await SpawnAsync(supervisor, Props.Create(() => new LifecycleActor(TestActor.Ref, "l")), "l");
        TestActor.Watch(child);
        for (var i = 0; i < 3; i++)
        {
            child.Tell(new InvalidOperationException("again"));
            await TestActor.FishForMessageAsync<string>(s => s == "l:PostRestart:again");
        }

        child.Tell(new InvalidOperationException("once too often"));
        await TestActor.FishForMessageAsync<Terminated>(t => t.ActorRef.Equals(child));
        TestActor.Send(supervisor, "children");
        Assert.Equal(0, await TestActor.FishForMessageAsync<int>(_ => true));
    }

    [Fact]
    public async Task ConstructorFailure_DefaultStrategyStopsInsteadOfLooping()
    {
        var child = Sys.ActorOf(Props.Create<BrokenConstructorActor>(), "broken");
        TestActor.Watch(child);
        await TestActor.ExpectTerminatedAsync(child);
    }

    [Fact]
    public async Task TenThousandFailures_AreRestartedWithoutLeakOrDeadlock()
    {
        const int failures = 10_000;
        var counters = new RestartCounters();
        var supervisor = SupervisorWith(SupervisorStrategy.DefaultStrategy);
        var child = await SpawnAsync(supervisor, Props.Create(() => new CountingFailer(counters)), "failer");
        var liveBefore = Sys.LiveActorCount;

        for (var i = 0; i < failures; i++)
        {
            child.Tell(i);
        }

        // Every message fails, and each failure drops its message, so the next reply proves all were processed.
        TestActor.Send(child, "done");
        Assert.Equal("done", await TestActor.ExpectMsgAsync<string>(TimeSpan.FromSeconds(60)));

        Assert.Equal(failures, Volatile.Read(ref counters.Failures));
        Assert.Equal(failures, Volatile.Read(ref counters.Restarts));
        Assert.Equal(failures + 1, Volatile.Read(ref counters.Instances));
        Assert.Equal(liveBefore, Sys.LiveActorCount);
        TestActor.Send(supervisor, "children");
        Assert.Equal(1, await TestActor.ExpectMsgAsync<int>());
    }

    private IActorRef SupervisorWith(SupervisorStrategy strategy) =>
        Sys.ActorOf(Props.Create(() => new SupervisorActor()).WithSupervisorStrategy(strategy));

    private async Task<IActorRef> SpawnAsync(IActorRef supervisor, Props props, string name) =>
        await supervisor.Ask<IActorRef>(new ChildSpec(props, name), Patience);

    internal sealed class RestartCounters
    {
        public int Failures;
        public int Restarts;
        public int Instances;
    }

    private sealed class CountingFailer : ReceiveActor
    {
        private readonly RestartCounters _counters;

        public CountingFailer(RestartCounters counters)
        {
            _counters = counters;
            Interlocked.Increment(ref counters.Instances);
            Receive<int>(i =>
            {
                Interlocked.Increment(ref counters.Failures);
                throw new InvalidOperationException($"failure {i}");
            });
            Receive<string>(s => Sender.Tell(s));
        }

        protected internal override void PostRestart(Exception reason) => Interlocked.Increment(ref _counters.Restarts);
    }

    private sealed class BrokenConstructorActor : ReceiveActor
    {
        public BrokenConstructorActor() => throw new InvalidOperationException("cannot start");
    }

    private sealed class LifecycleSupervisor : ReceiveActor
    {
        private readonly IActorRef _reporter;

        public LifecycleSupervisor(IActorRef reporter)
        {
            _reporter = reporter;
            Receive<ChildSpec>(spec => Sender.Tell(Context.ActorOf(spec.Props, spec.Name)));
        }

        protected internal override void PreStart() => _reporter.Tell("sup:PreStart");

        protected internal override void PreRestart(Exception reason, object? message)
        {
            _reporter.Tell($"sup:PreRestart:{reason.Message}");
            base.PreRestart(reason, message);
        }
    }
}
