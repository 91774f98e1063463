using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;

namespace ClusterQueue.Tests.Actors;

public sealed class AskTests : ActorTestBase
{
    [Fact]
    public async Task Ask_ReturnsTheReply()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        Assert.Equal("hello", await echo.Ask<string>("hello", Patience));
    }

    [Fact]
    public async Task Ask_WithoutReply_ThrowsAskTimeoutNamingTargetAndTimeout()
    {
        var silent = Sys.ActorOf(Props.Create(() => new SilentActor()), "silent");
        var timeout = TimeSpan.FromMilliseconds(200);
        var error = await Assert.ThrowsAsync<AskTimeoutException>(() => silent.Ask<string>("anyone?", timeout));
        Assert.Equal(silent.Path, error.Target);
        Assert.Equal(timeout, error.Timeout);
        Assert.Contains("/user/silent", error.Message, StringComparison.Ordinal);
        Assert.Contains(timeout.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_StatusFailureReply_IsRethrown()
    {
        var failing = Sys.ActorOf(Props.Create(() => new FailureReplier()));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.Ask<string>("go", Patience));
        Assert.Equal("refused", error.Message);
    }

    [Fact]
    public async Task Ask_ReplyOfWrongType_ThrowsNamingBothTypes()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var error = await Assert.ThrowsAsync<InvalidCastException>(() => echo.Ask<string>(42, Patience));
        Assert.Contains("String", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_NonPositiveTimeout_IsRejected()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => echo.Ask<string>("x", TimeSpan.Zero));
        Assert.Equal("timeout", error.ParamName);
    }

    private sealed class SilentActor : ReceiveActor
    {
        public SilentActor() => ReceiveAny(_ => { });
    }

    private sealed class FailureReplier : ReceiveActor
    {
        public FailureReplier() => ReceiveAny(_ => Sender.Tell(new Status.Failure(new InvalidOperationException("refused"))));
    }
}
