using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class ActorSystemTests : ActorTestBase
{
    [Fact]
    public async Task Paths_FollowTheTree()
    {
        var node = Sys.ActorOf(Props.Create(() => new SupervisorActor()), "node");
        var consumers = await node.Ask<IActorRef>(new ChildSpec(Props.Create(() => new SupervisorActor()), "consumers"), Patience);
        var celery = await consumers.Ask<IActorRef>(new ChildSpec(Props.Create(() => new EchoActor()), "celery"), Patience);
        Assert.Equal("/user/node", node.Path.ToString());
        Assert.Equal("/user/node/consumers/celery", celery.Path.ToString());
        Assert.Equal(["user", "node", "consumers", "celery"], celery.Path.Elements);
        Assert.StartsWith("/system/", TestActor.Path.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SiblingNames_MustBeUnique()
    {
        Sys.ActorOf(Props.Create(() => new EchoActor()), "twin");
        var error = Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create(() => new EchoActor()), "twin"));
        Assert.Contains("'twin'", error.Message, StringComparison.Ordinal);
        Assert.Contains("/user", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("$reserved")]
    [InlineData("with space")]
    public void InvalidNames_AreRejectedByName(string name)
    {
        var error = Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create(() => new EchoActor()), name));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSystemName_IsRejectedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => ActorSystem.Create("bad name"));
        Assert.Contains("'bad name'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnonymousChildren_GetDistinctGeneratedNames()
    {
        var a = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var b = Sys.ActorOf(Props.Create(() => new EchoActor()));
        Assert.NotEqual(a.Path, b.Path);
        Assert.StartsWith("$", a.Path.Name, StringComparison.Ordinal);
        TestActor.Send(a, "hi");
        Assert.Equal("hi", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task OrderFromOneSenderToOneReceiver_IsKept()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        for (var i = 0; i < 10_000; i++)
        {
            TestActor.Send(echo, i);
        }

        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(i, await TestActor.ExpectMsgAsync<int>());
        }
    }

    [Fact]
    public async Task OneMillionMessages_KeepOrderThroughAChainOfThree()
    {
        const int count = 1_000_000;
        var checker = Sys.ActorOf(Props.Create(() => new IncreaseChecker(count, TestActor.Ref)), "checker");
        var middle = Sys.ActorOf(Props.Create(() => new Forwarder(checker)), "middle");
        var first = Sys.ActorOf(Props.Create(() => new Forwarder(middle)), "first");
        for (var i = 0; i < count; i++)
        {
            first.Tell(i);
        }

        var result = await TestActor.ExpectMsgAsync<string>(TimeSpan.FromSeconds(120));
        Assert.Equal($"in order:{count}", result);
    }

    [Fact]
    public async Task StopOvertakesQueuedUserMessages_WhichBecomeDeadLetters()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(DeadLetter));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new GatedActor(gate.Task, TestActor.Ref)), "gated");
        actor.Tell("first");
        Assert.Equal("handling:first", await TestActor.ExpectMsgAsync<string>());
        for (var i = 0; i < 100; i++)
        {
            actor.Tell(i);
        }

        Sys.Stop(actor);
        gate.SetResult();
        var dead = new List<int>();
        while (dead.Count < 100)
        {
            var letter = await TestActor.FishForMessageAsync<DeadLetter>(_ => true);
            Assert.Equal(actor, letter.Recipient);
            dead.Add((int)letter.Message);
        }

        Assert.Equal(Enumerable.Range(0, 100), dead);
    }

    [Fact]
    public async Task TellToAStoppedActor_IsADeadLetter()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(DeadLetter));
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        TestActor.Watch(actor);
        Sys.Stop(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        actor.Tell("too late", TestActor.Ref);
        var letter = await TestActor.ExpectMsgAsync<DeadLetter>();
        Assert.Equal("too late", letter.Message);
        Assert.Equal(TestActor.Ref, letter.Sender);
    }

    [Fact]
    public async Task ReplyToAMessageWithoutSender_GoesToDeadLetters()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(DeadLetter));
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        echo.Tell("nobody asked");
        var letter = await TestActor.ExpectMsgAsync<DeadLetter>();
        Assert.Equal("nobody asked", letter.Message);
        Assert.Equal(echo, letter.Sender);
    }

    [Fact]
    public async Task Terminate_WhileHandlersAwait_CancelsTheirTokenAndRunsEveryPostStop()
    {
        var started = new CountdownEvent(3);
        var stopped = new PostStopLog();
        for (var i = 0; i < 3; i++)
        {
            var actor = Sys.ActorOf(Props.Create(() => new ForeverAwaiting(started, stopped)), $"busy{i}");
            actor.Tell("work");
        }

        Assert.True(await Task.Run(() => started.Wait(Patience)));
        var before = Sys.LiveActorCount;
        Assert.True(before >= 6);

        await Sys.Terminate().WaitAsync(Patience);

        Assert.Equal(3, stopped.Cancelled);
        Assert.Equal(3, stopped.PostStops);
        Assert.Equal(0, Sys.LiveActorCount);
    }

    [Fact]
    public async Task Terminate_StopsUserActorsBeforeSystemActors()
    {
        var user = Sys.ActorOf(Props.Create(() => new EchoActor()), "user-actor");
        TestActor.Watch(user);
        _ = Sys.Terminate();
        await TestActor.ExpectTerminatedAsync(user);
        await Sys.WhenTerminated.WaitAsync(Patience);
        Assert.Throws<ActorSystemTerminatedException>(() => Sys.ActorOf(Props.Create(() => new EchoActor())));
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef next) => Receive<int>(i => next.Tell(i, Self));
    }

    private sealed class IncreaseChecker : ReceiveActor
    {
        private int _last = -1;
        private int _count;

        public IncreaseChecker(int expected, IActorRef reporter) => Receive<int>(i =>
        {
            if (i <= _last)
            {
                reporter.Tell($"out of order: {i} after {_last}");
            }

            _last = i;
            if (++_count == expected)
            {
                reporter.Tell($"in order:{_count}");
            }
        });
    }

    private sealed class GatedActor : ReceiveActor
    {
        public GatedActor(Task gate, IActorRef reporter)
        {
            ReceiveAsync<string>(async s =>
            {
                reporter.Tell($"handling:{s}");
                await gate;
            });
            Receive<int>(i => reporter.Tell($"handled:{i}"));
        }
    }

    private sealed class PostStopLog
    {
        public int Cancelled;
        public int PostStops;
    }

    private sealed class ForeverAwaiting : ReceiveActor
    {
        private readonly PostStopLog _log;

        public ForeverAwaiting(CountdownEvent started, PostStopLog log)
        {
            _log = log;
            ReceiveAsync<string>(async _ =>
            {
                started.Signal();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, Context.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref log.Cancelled);
                    throw;
                }
            });
        }

        protected internal override void PostStop() => Interlocked.Increment(ref _log.PostStops);
    }
}
