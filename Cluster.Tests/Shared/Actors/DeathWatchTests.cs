using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class DeathWatchTests : ActorTestBase
{
    [Fact]
    public async Task Terminated_IsDeliveredExactlyOnce_EvenWhenWatchedTwice()
    {
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        TestActor.Watch(actor);
        TestActor.Watch(actor);
        Sys.Stop(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task WatchingAnAlreadyStoppedActor_StillDeliversTerminated()
    {
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var first = CreateTestProbe();
        first.Watch(actor);
        Sys.Stop(actor);
        await first.ExpectTerminatedAsync(actor);

        TestActor.Watch(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Unwatch_PreventsTerminated()
    {
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var watcher = Sys.ActorOf(Props.Create(() => new WatchThenUnwatch(actor, TestActor.Ref)));
        Assert.Equal("unwatched", await TestActor.ExpectMsgAsync<string>());
        Sys.Stop(actor);
        TestActor.Watch(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        watcher.Tell("report", TestActor.Ref);
        Assert.Equal("no terminated", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task UnhandledTerminated_IsADeathPactThatStopsTheWatcher()
    {
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var watcher = Sys.ActorOf(Props.Create(() => new WatchOnly(actor)));
        TestActor.Watch(watcher);
        Sys.Stop(actor);
        await TestActor.ExpectTerminatedAsync(watcher);
    }

    [Fact]
    public async Task StoppingAParent_RunsChildrenPostStopBeforeTheParents()
    {
        var parent = Sys.ActorOf(Props.Create(() => new TreeActor(TestActor.Ref, "p", 2)), "p");
        for (var i = 0; i < 3; i++)
        {
            await TestActor.ExpectMsgAsync<string>(s => s.EndsWith(":PreStart", StringComparison.Ordinal));
        }

        TestActor.Watch(parent);
        Sys.Stop(parent);
        var order = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            order.Add(await TestActor.ExpectMsgAsync<string>());
        }

        Assert.Equal("p:PostStop", order[2]);
        Assert.Equal(["p/0:PostStop", "p/1:PostStop"], order.Take(2).Order());
        await TestActor.ExpectTerminatedAsync(parent);
    }

    [Fact]
    public async Task PostStopThatThrows_IsLoggedAndTerminatedStillArrives()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ThrowingPostStop()));
        TestActor.Watch(actor);
        Sys.Stop(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        var other = Sys.ActorOf(Props.Create(() => new EchoActor()));
        TestActor.Send(other, "system still works");
        Assert.Equal("system still works", await TestActor.ExpectMsgAsync<string>());
    }

    private sealed class WatchThenUnwatch : ReceiveActor
    {
        private bool _gotTerminated;

        public WatchThenUnwatch(IActorRef target, IActorRef reporter)
        {
            Context.Watch(target);
            Context.Unwatch(target);
            reporter.Tell("unwatched");
            Receive<Terminated>(_ => _gotTerminated = true);
            Receive<string>(_ => Sender.Tell(_gotTerminated ? "terminated" : "no terminated"));
        }
    }

    private sealed class WatchOnly : ReceiveActor
    {
        public WatchOnly(IActorRef target)
        {
            Context.Watch(target);
            Receive<string>(_ => { });
        }
    }

    private sealed class TreeActor : ReceiveActor
    {
        private readonly IActorRef _reporter;
        private readonly string _id;

        public TreeActor(IActorRef reporter, string id, int children)
        {
            _reporter = reporter;
            _id = id;
            for (var i = 0; i < children; i++)
            {
                var childId = $"{id}/{i}";
                Context.ActorOf(Props.Create(() => new TreeActor(reporter, childId, 0)), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        protected internal override void PreStart() => _reporter.Tell($"{_id}:PreStart");

        protected internal override void PostStop() => _reporter.Tell($"{_id}:PostStop");
    }

    private sealed class ThrowingPostStop : ReceiveActor
    {
        protected internal override void PostStop() => throw new InvalidOperationException("PostStop failed");
    }
}
