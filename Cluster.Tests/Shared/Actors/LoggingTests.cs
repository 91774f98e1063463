using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Tests.Actors;

public sealed class LoggingTests
{
    [Fact]
    public async Task PostStopException_AndDeadLetters_AreLoggedNotThrown()
    {
        var logs = new RecordingLoggerFactory();
        var system = ActorSystem.Create("logging", logs);
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create(() => new ThrowsInPostStop()), "fragile");
        probe.Watch(actor);
        system.Stop(actor);
        await probe.ExpectTerminatedAsync(actor);
        actor.Tell("after stop");

        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));

        var entries = logs.Entries;
        Assert.Contains(entries, e => e.Level == LogLevel.Error && e.Exception?.Message == "cleanup failed" && e.Message.Contains("/user/fragile", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Message.Contains("Dead letter", StringComparison.Ordinal) && e.Message.Contains("/user/fragile", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChildFailure_IsLoggedWithTheDirective()
    {
        var logs = new RecordingLoggerFactory();
        var system = ActorSystem.Create("failures", logs);
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create(() => new LifecycleActor(probe.Ref, "f")), "f");
        actor.Tell(new InvalidOperationException("bad input"));
        await probe.FishForMessageAsync<string>(s => s == "f:PostRestart:bad input");
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("/user/f", StringComparison.Ordinal) && e.Message.Contains("Restart", StringComparison.Ordinal));
    }

    private sealed class ThrowsInPostStop : ReceiveActor
    {
        protected internal override void PostStop() => throw new InvalidOperationException("cleanup failed");
    }
}
