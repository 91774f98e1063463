using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class ReceiveActorTests : ActorTestBase
{
    [Fact]
    public async Task Receive_PicksFirstMatchingHandlerByTypeAndPredicate()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ClassifierActor()));
        TestActor.Send(actor, 5);
        TestActor.Send(actor, -3);
        TestActor.Send(actor, "text");
        TestActor.Send(actor, 2.5);
        Assert.Equal("positive:5", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("int:-3", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("string:text", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("any:Double", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task Unhandled_IsPublishedAsUnhandledMessage()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(UnhandledMessage));
        var actor = Sys.ActorOf(Props.Create(() => new OnlyStringsActor()), "strings");
        actor.Tell(42);
        var unhandled = await TestActor.ExpectMsgAsync<UnhandledMessage>();
        Assert.Equal(42, unhandled.Message);
        Assert.Equal(actor, unhandled.Recipient);
    }

    [Fact]
    public async Task ReceiveAsync_HandlesOneMessageAtATimeInOrder()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new SlowAsyncActor(gate.Task, TestActor.Ref)));
        for (var i = 0; i < 50; i++)
        {
            actor.Tell(i);
        }

        Assert.Equal("started:0", await TestActor.ExpectMsgAsync<string>());
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        gate.SetResult();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"done:{i}:concurrent=1", await TestActor.FishForMessageAsync<string>(s => s.StartsWith("done:", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task ReceiveAsync_FaultedTask_IsAFailureThatRestarts()
    {
        var actor = Sys.ActorOf(Props.Create(() => new AsyncFailingActor(TestActor.Ref)));
        actor.Tell("fail");
        Assert.Equal("PostRestart:async boom", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(actor, "ping");
        Assert.Equal("ping", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task BecomeAndUnbecomeStacked_SwitchBehaviour()
    {
        var actor = Sys.ActorOf(Props.Create(() => new MoodActor()));
        TestActor.Send(actor, "how");
        Assert.Equal("calm", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(actor, "anger");
        TestActor.Send(actor, "how");
        Assert.Equal("angry", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(actor, "anger");
        TestActor.Send(actor, "how");
        Assert.Equal("furious", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(actor, "soothe");
        TestActor.Send(actor, "how");
        Assert.Equal("angry", await TestActor.ExpectMsgAsync<string>());
        TestActor.Send(actor, "soothe");
        TestActor.Send(actor, "soothe");
        TestActor.Send(actor, "how");
        Assert.Equal("calm", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task Become_ReplacesInsteadOfStacking()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ToggleActor()));
        foreach (var expected in new[] { "on", "off", "on" })
        {
            TestActor.Send(actor, "toggle");
            Assert.Equal(expected, await TestActor.ExpectMsgAsync<string>());
        }
    }

    [Fact]
    public async Task BecomeInConstructor_LaterReceivesExtendTheNewBehaviour()
    {
        var actor = Sys.ActorOf(Props.Create(() => new BecomeInConstructorActor()));
        TestActor.Send(actor, "s");
        TestActor.Send(actor, 1);
        Assert.Equal("new:s", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal("int:1", await TestActor.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task Stash_UnstashAll_ReplaysInOriginalOrderBeforeLaterMessages()
    {
        var actor = Sys.ActorOf(Props.Create(() => new StashingActor(TestActor.Ref)));
        for (var i = 0; i < 5; i++)
        {
            actor.Tell(i);
        }

        actor.Tell("open");
        actor.Tell(100);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i, await TestActor.ExpectMsgAsync<int>());
        }

        Assert.Equal(100, await TestActor.ExpectMsgAsync<int>());
    }

    [Fact]
    public async Task Receive_OutsideConstructorOrBecome_ThrowsClearError()
    {
        var actor = Sys.ActorOf(Props.Create(() => new LateReceiveActor()));
        TestActor.Send(actor, "add");
        var error = await TestActor.ExpectMsgAsync<string>();
        Assert.Contains("constructor or inside Become", error, StringComparison.Ordinal);
    }

    [Fact]
    public void NewActorWithoutProps_ThrowsClearError()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new EchoActor());
        Assert.Contains("ActorOf(Props)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PoisonPill_StopsAfterEarlierMessages()
    {
        var actor = Sys.ActorOf(Props.Create(() => new EchoActor()));
        TestActor.Watch(actor);
        TestActor.Send(actor, "before");
        actor.Tell(PoisonPill.Instance);
        Assert.Equal("before", await TestActor.ExpectMsgAsync<string>());
        await TestActor.ExpectTerminatedAsync(actor);
    }

    private sealed class ClassifierActor : ReceiveActor
    {
        public ClassifierActor()
        {
            Receive<int>(i => i > 0, i => Sender.Tell($"positive:{i}"));
            Receive<int>(i => Sender.Tell($"int:{i}"));
            Receive<string>(s => Sender.Tell($"string:{s}"));
            ReceiveAny(o => Sender.Tell($"any:{o.GetType().Name}"));
        }
    }

    private sealed class OnlyStringsActor : ReceiveActor
    {
        public OnlyStringsActor() => Receive<string>(_ => { });
    }

    private sealed class SlowAsyncActor : ReceiveActor
    {
        private int _inFlight;

        public SlowAsyncActor(Task gate, IActorRef reporter)
        {
            ReceiveAsync<int>(async i =>
            {
                var concurrent = Interlocked.Increment(ref _inFlight);
                reporter.Tell($"started:{i}");
                await gate;
                await Task.Yield();
                reporter.Tell($"done:{i}:concurrent={concurrent}");
                Interlocked.Decrement(ref _inFlight);
            });
        }
    }

    private sealed class AsyncFailingActor : ReceiveActor
    {
        private readonly IActorRef _reporter;

        public AsyncFailingActor(IActorRef reporter)
        {
            _reporter = reporter;
            ReceiveAsync<string>(async s =>
            {
                await Task.Yield();
                if (s == "fail")
                {
                    throw new InvalidOperationException("async boom");
                }

                Sender.Tell(s);
            });
        }

        protected internal override void PostRestart(Exception reason) => _reporter.Tell($"PostRestart:{reason.Message}");
    }

    private sealed class MoodActor : ReceiveActor
    {
        public MoodActor()
        {
            Receive<string>(s => s == "how", _ => Sender.Tell("calm"));
            Receive<string>(s => s == "anger", _ => BecomeStacked(Angry));
        }

        private void Angry()
        {
            Receive<string>(s => s == "how", _ => Sender.Tell("angry"));
            Receive<string>(s => s == "anger", _ => BecomeStacked(Furious));
            Receive<string>(s => s == "soothe", _ => UnbecomeStacked());
        }

        private void Furious()
        {
            Receive<string>(s => s == "how", _ => Sender.Tell("furious"));
            Receive<string>(s => s == "soothe", _ => UnbecomeStacked());
        }
    }

    private sealed class ToggleActor : ReceiveActor
    {
        public ToggleActor() => Off();

        private void Off() => Receive<string>(_ =>
        {
            Sender.Tell("on");
            Become(On);
        });

        private void On() => Receive<string>(_ =>
        {
            Sender.Tell("off");
            Become(Off);
        });
    }

    private sealed class BecomeInConstructorActor : ReceiveActor
    {
        public BecomeInConstructorActor()
        {
            Receive<string>(s => Sender.Tell("old:" + s));
            Become(() => Receive<string>(s => Sender.Tell("new:" + s)));
            Receive<int>(i => Sender.Tell($"int:{i}"));
        }
    }

    private sealed class StashingActor : ReceiveActor, IWithStash
    {
        public StashingActor(IActorRef reporter)
        {
            Receive<int>(_ => Stash.Stash());
            Receive<string>(s => s == "open", _ =>
            {
                Become(() => Receive<int>(i => reporter.Tell(i)));
                Stash.UnstashAll();
            });
        }

        public IStash Stash { get; set; } = null!;
    }

    private sealed class LateReceiveActor : ReceiveActor
    {
        public LateReceiveActor() => Receive<string>(_ =>
        {
            try
            {
                Receive<int>(_ => { });
                Sender.Tell("no error");
            }
            catch (InvalidOperationException ex)
            {
                Sender.Tell(ex.Message);
            }
        });
    }
}
