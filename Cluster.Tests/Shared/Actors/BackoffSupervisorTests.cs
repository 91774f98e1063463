using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Actors;

public sealed class BackoffSupervisorTests : ActorTestBase
{
    [Fact]
    public async Task FailingChild_IsRestartedWithDoublingDelaysUpToTheCap()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(BackoffSupervisor.RestartScheduled));
        var options = BackoffOptions.CreateOnFailure(
            Props.Create(() => new LifecycleActor(TestActor.Ref, "w")), "worker",
            TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(40), randomFactor: 0)
            .WithAutoReset(TimeSpan.FromMinutes(10));
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options), "backoff");
        Assert.Equal("w:PreStart", await TestActor.ExpectMsgAsync<string>());

        var delays = new List<TimeSpan>();
        for (var restart = 1; restart <= 6; restart++)
        {
            supervisor.Tell(new InvalidOperationException("crash"));
            Assert.Equal("w:PostStop", await TestActor.ExpectMsgAsync<string>());
            var scheduled = await TestActor.ExpectMsgAsync<BackoffSupervisor.RestartScheduled>();
            Assert.Equal(restart, scheduled.RestartCount);
            delays.Add(scheduled.Delay);
            Assert.Equal("w:PreStart", await TestActor.ExpectMsgAsync<string>());
            var count = await supervisor.Ask<BackoffSupervisor.RestartCount>(BackoffSupervisor.GetRestartCount.Instance, Patience);
            Assert.Equal(restart, count.Count);
        }

        Assert.Equal([5, 10, 20, 40, 40, 40], delays.Select(d => (int)d.TotalMilliseconds));
    }

    [Fact]
    public async Task StableChild_ResetsTheBackoff()
    {
        Sys.EventStream.Subscribe(TestActor.Ref, typeof(BackoffSupervisor.BackoffReset));
        var options = BackoffOptions.CreateOnFailure(
            Props.Create(() => new LifecycleActor(TestActor.Ref, "w")), "worker",
            TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1), 0.2)
            .WithAutoReset(TimeSpan.FromMilliseconds(50));
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options), "backoff");
        supervisor.Tell(new InvalidOperationException("crash"));
        await TestActor.FishForMessageAsync<BackoffSupervisor.BackoffReset>(_ => true);
        var count = await supervisor.Ask<BackoffSupervisor.RestartCount>(BackoffSupervisor.GetRestartCount.Instance, Patience);
        Assert.Equal(0, count.Count);
    }

    [Fact]
    public async Task Messages_AreForwardedToTheChildWithTheOriginalSender()
    {
        var options = BackoffOptions.CreateOnFailure(Props.Create(() => new EchoActor()), "echo", TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), 0.1);
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        TestActor.Send(supervisor, "through");
        Assert.Equal("through", await TestActor.ExpectMsgAsync<string>());
        var child = await supervisor.Ask<BackoffSupervisor.CurrentChild>(BackoffSupervisor.GetCurrentChild.Instance, Patience);
        Assert.Equal(child.Ref, TestActor.LastSender);
        Assert.EndsWith("/echo", child.Ref!.Path.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxNrOfRetries_StopsTheSupervisorWhenExhausted()
    {
        var options = BackoffOptions.CreateOnFailure(Props.Create(() => new LifecycleActor(TestActor.Ref, "w")), "worker",
            TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10), 0).WithMaxNrOfRetries(2)
            // The reset period defaults to minBackoff (5 ms); on a loaded machine a child can outlive that before its
            // crash is handled, which resets the count and the supervisor never gives up. The count is what's tested.
            .WithAutoReset(TimeSpan.FromMinutes(5));
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        TestActor.Watch(supervisor);
        for (var i = 0; i < 3; i++)
        {
            await TestActor.FishForMessageAsync<string>(s => s == "w:PreStart");
            supervisor.Tell(new InvalidOperationException("crash"));
        }

        await TestActor.FishForMessageAsync<Terminated>(t => t.ActorRef.Equals(supervisor));
    }

    [Theory]
    [InlineData(0, 10, 0.1)]
    [InlineData(-1, 10, 0.1)]
    [InlineData(20, 10, 0.1)]
    [InlineData(10, 20, 1.5)]
    public void InvalidOptions_AreRejectedNamingTheParameter(int minMs, int maxMs, double randomFactor)
    {
        var error = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => BackoffOptions.CreateOnFailure(
            Props.Create(() => new EchoActor()), "c", TimeSpan.FromMilliseconds(minMs), TimeSpan.FromMilliseconds(maxMs), randomFactor));
        Assert.Contains(error.ParamName, new[] { "minBackoff", "maxBackoff", "randomFactor" });
    }

    [Fact]
    public void CalculateDelay_StaysWithinMinAndMaxTimesJitter_AndNeverShrinksAsRestartsGrow()
    {
        Prop.ForAll(
            Gen.Choose(0, 100).ToArbitrary(),
            Gen.Choose(1, 1000).ToArbitrary(),
            Gen.Choose(0, 100).ToArbitrary(),
            (restarts, minMs, randomPercent) =>
            {
                var min = TimeSpan.FromMilliseconds(minMs);
                var max = TimeSpan.FromMilliseconds(minMs * 50);
                var factor = randomPercent / 100.0;
                var low = BackoffSupervisor.CalculateDelay(restarts, min, max, factor, 0);
                var high = BackoffSupervisor.CalculateDelay(restarts, min, max, factor, 0.999999);
                var next = BackoffSupervisor.CalculateDelay(restarts + 1, min, max, factor, 0);
                return low >= min && low <= max && high <= max * (1 + factor) + TimeSpan.FromTicks(1) && next >= low;
            }).QuickCheckThrowOnFailure();
    }
}
