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
