using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class SchedulerTests : ActorTestBase
{
    [Fact]
    public async Task ScheduleTellOnce_DeliversOnceWithSender()
    {
        var sender = CreateTestProbe();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(20), TestActor, "tick", sender.Ref);
        Assert.Equal("tick", await TestActor.ExpectMsgAsync<string>());
        Assert.Equal(sender.Ref, TestActor.LastSender);
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task ScheduleTellOnce_CancelledBeforeDue_NeverDelivers()
    {
        var scheduled = Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), TestActor, "never", null);
        scheduled.Cancel();
        Assert.True(scheduled.IsCancellationRequested);
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ScheduleTellRepeatedly_RepeatsUntilCancelled()
    {
        var scheduled = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.Zero, TimeSpan.FromMilliseconds(20), TestActor, "tick", null);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("tick", await TestActor.ExpectMsgAsync<string>());
        }

        scheduled.Dispose();

        // Cancel returns only after any tick in flight has been told, so ticks can precede the marker but not follow it.
        TestActor.Tell("marker");
        await TestActor.FishForMessageAsync<string>(s => s == "marker");
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void ScheduleTellRepeatedly_NonPositiveInterval_IsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.Zero, TimeSpan.Zero, TestActor, "x", null));
        Assert.Equal("interval", error.ParamName);
    }

    [Fact]
    public async Task Terminate_CancelsEverythingScheduled()
    {
        var scheduled = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), TestActor, "late", null);
        await Sys.Terminate().WaitAsync(Patience);
        Assert.True(scheduled.IsCancellationRequested);
    }
}
