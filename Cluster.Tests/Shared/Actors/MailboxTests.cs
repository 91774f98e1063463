using System.Diagnostics;
using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class MailboxTests : ActorTestBase
{
    [Fact]
    public async Task ABacklog_IsHandledInThroughputSizedTurns_SoOtherActorsGetThreads()
    {
        const int backlog = 1000;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = (ActorCell)Sys.ActorOf(Props.Create(() => new GateThenCount(gate.Task, backlog, TestActor.Ref)));
        actor.Tell("hold");
        Assert.Equal("holding", await TestActor.ExpectMsgAsync<string>());
        for (var i = 0; i < backlog; i++)
        {
            actor.Tell(i);
        }

        var turnsBefore = actor.Turns;
        gate.SetResult();
        Assert.Equal("counted", await TestActor.ExpectMsgAsync<string>());
        Assert.True(actor.Turns - turnsBefore >= backlog / ActorCell.Throughput, $"{actor.Turns - turnsBefore} turns for {backlog} messages");
    }

    [Fact]
    public void RestartWindow_ForgetsRestartsOlderThanTheWindow()
    {
        var stats = new ChildRestartStats();
        var window = TimeSpan.FromSeconds(10);
        var start = Stopwatch.GetTimestamp();
        var later = start + (11 * Stopwatch.Frequency);
        Assert.True(stats.RequestRestartPermission(2, window, start));
        Assert.True(stats.RequestRestartPermission(2, window, start + 1));
        Assert.False(stats.RequestRestartPermission(2, window, start + 2));
        Assert.True(stats.RequestRestartPermission(2, window, later));
        Assert.True(stats.RequestRestartPermission(2, window, later + 1));
        Assert.False(stats.RequestRestartPermission(2, window, later + 2));
    }

    [Fact]
    public void RestartLimitZero_NeverRestarts_AndMinusOneAlwaysDoes()
    {
        var stats = new ChildRestartStats();
        Assert.False(stats.RequestRestartPermission(0, Timeout.InfiniteTimeSpan));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(stats.RequestRestartPermission(-1, Timeout.InfiniteTimeSpan));
        }

        Assert.Equal(100, stats.TotalRestarts);
    }

    private sealed class GateThenCount : ReceiveActor
    {
        private int _count;

        public GateThenCount(Task gate, int expected, IActorRef reporter)
        {
            ReceiveAsync<string>(async _ =>
            {
                reporter.Tell("holding");
                await gate;
            });
            Receive<int>(_ =>
            {
                if (++_count == expected)
                {
                    reporter.Tell("counted");
                }
            });
        }
    }
}
