using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class ChildrenTests : ActorTestBase
{
    [Fact]
    public async Task ContextStop_StopsTheChild_AndFreesItsName()
    {
        var parent = Sys.ActorOf(Props.Create(() => new RecyclingParent(TestActor.Ref)), "parent");
        parent.Tell("spawn");
        var first = await TestActor.ExpectMsgAsync<IActorRef>();
        Assert.Equal("/user/parent/worker", first.Path.ToString());
        TestActor.Watch(first);

        parent.Tell("stop");
        await TestActor.ExpectTerminatedAsync(first);
        parent.Tell("children");
        Assert.Equal(0, await TestActor.ExpectMsgAsync<int>());

        parent.Tell("spawn");
        var second = await TestActor.ExpectMsgAsync<IActorRef>();
        Assert.Equal(first.Path, second.Path);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task StoppingAChildThatIsAlreadyGone_DoesNotBlockALaterRestart()
    {
        var parent = Sys.ActorOf(Props.Create(() => new LateStopper(TestActor.Ref)), "late");
        parent.Tell("spawn");
        var child = await TestActor.ExpectMsgAsync<IActorRef>();
        child.Tell(PoisonPill.Instance);
        Assert.Equal("child gone", await TestActor.ExpectMsgAsync<string>());

        parent.Tell("stop it again");
        parent.Tell(new InvalidOperationException("restart me"));
        parent.Tell("alive?");
        Assert.Equal("restarted", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("alive", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task StashedMessages_SurviveARestart()
    {
        var actor = Sys.ActorOf(Props.Create(() => new StashUntilOpen(TestActor.Ref)));
        actor.Tell(1);
        actor.Tell(2);
        actor.Tell(new InvalidOperationException("crash while stashing"));
        actor.Tell("open");
        Assert.Equal(1, await TestActor.ExpectMsgAsync<int>());
        Assert.Equal(2, await TestActor.ExpectMsgAsync<int>());
    }

    [Fact]
    public async Task StashedMessages_BecomeDeadLettersWhenTheActorStops()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(DeadLetter));
        var actor = Sys.ActorOf(Props.Create(() => new StashUntilOpen(TestActor.Ref)));
        actor.Tell(7);
        actor.Tell(PoisonPill.Instance);
        var letter = await TestActor.ExpectMsgAsync<DeadLetter>();
        Assert.Equal(7, letter.Message);
    }

    [Fact]
    public void MailboxChannel_SupportsPeek_WhichTheSchedulerReliesOn()
    {
        var channel = System.Threading.Channels.Channel.CreateUnbounded<int>(ActorCell.MailboxOptions);
        Assert.True(channel.Reader.CanPeek);
        channel.Writer.TryWrite(1);
        Assert.True(channel.Reader.TryPeek(out var peeked));
        Assert.Equal(1, peeked);
    }

    private sealed class LateStopper : ReceiveActor
    {
        private readonly IActorRef _reporter;
        private IActorRef? _child;

        public LateStopper(IActorRef reporter)
        {
            _reporter = reporter;
            Receive<string>(s => s == "spawn", _ =>
            {
                _child = Context.Watch(Context.ActorOf(Props.Create(() => new EchoActor()), "short-lived"));
                reporter.Tell(_child);
            });
            Receive<Terminated>(_ => reporter.Tell("child gone"));
            Receive<string>(s => s == "stop it again", _ => Context.Stop(_child!));
            Receive<string>(s => s == "alive?", _ => reporter.Tell("alive"));
            Receive<Exception>(ex => throw ex);
        }

        protected internal override void PostRestart(Exception reason) => _reporter.Tell("restarted");
    }

    private sealed class RecyclingParent : ReceiveActor
    {
        public RecyclingParent(IActorRef reporter)
        {
            Receive<string>(s => s == "spawn", _ => reporter.Tell(Context.ActorOf(Props.Create(() => new EchoActor()), "worker")));
            Receive<string>(s => s == "stop", _ => Context.Stop(Context.Child("worker")!));
            Receive<string>(s => s == "children", _ => reporter.Tell(Context.Children.Count));
        }
    }

    private sealed class StashUntilOpen : ReceiveActor, IWithStash
    {
        public StashUntilOpen(IActorRef reporter)
        {
            Receive<int>(_ => Stash.Stash());
            Receive<Exception>(ex => throw ex);
            Receive<string>(s => s == "open", _ =>
            {
                Become(() => Receive<int>(i => reporter.Tell(i)));
                Stash.UnstashAll();
            });
        }

        public IStash Stash { get; set; } = null!;
    }
}
