using ClusterQueue.Actors;
using ClusterQueue.Tests.TestKit;
using Xunit.Sdk;

namespace ClusterQueue.Tests.Actors;

public sealed class TestKitTests : ActorTestBase
{
    [Fact]
    public async Task ExpectMsg_FailsOnTimeoutNamingTheType()
    {
        var error = await Assert.ThrowsAsync<XunitException>(() => TestActor.ExpectMsgAsync<string>(TimeSpan.FromMilliseconds(50)));
        Assert.Contains("String", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectMsg_FailsOnAnotherMessage()
    {
        TestActor.Tell(5);
        var error = await Assert.ThrowsAsync<XunitException>(() => TestActor.ExpectMsgAsync<string>());
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectMsg_WithValue_ComparesByEquality()
    {
        TestActor.Tell("a");
        TestActor.Tell("b");
        Assert.Equal("a", await TestActor.ExpectMsgAsync("a"));
        await Assert.ThrowsAsync<XunitException>(() => TestActor.ExpectMsgAsync("c"));
    }

    [Fact]
    public async Task ExpectNoMsg_FailsWhenAMessageArrives()
    {
        TestActor.Tell("unexpected");
        await Assert.ThrowsAsync<XunitException>(() => TestActor.ExpectNoMsgAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task FishForMessage_SkipsUntilAMatch()
    {
        foreach (var i in new[] { 1, 2, 3, 4 })
        {
            TestActor.Tell(i);
        }

        Assert.Equal(3, await TestActor.FishForMessageAsync<int>(i => i > 2));
        Assert.Equal(4, await TestActor.ExpectMsgAsync<int>());
    }

    [Fact]
    public async Task Within_ShortensTheBudgetOfInnerExpectations()
    {
        var error = await Assert.ThrowsAsync<XunitException>(() =>
            TestActor.WithinAsync(TimeSpan.FromMilliseconds(100), () => TestActor.ExpectMsgAsync<string>()));
        Assert.DoesNotContain("00:00:20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Within_PassesWhenTheBlockCompletesInTime()
    {
        TestActor.Tell("quick");
        await TestActor.WithinAsync(Patience, async () => Assert.Equal("quick", await TestActor.ExpectMsgAsync<string>()));
    }

    [Fact]
    public async Task Reply_AnswersTheLastSender()
    {
        var echo = Sys.ActorOf(Props.Create(() => new EchoActor()));
        var asking = echo.Ask<string>("question", Patience);
        var other = CreateTestProbe();
        other.Send(TestActor, "ping");
        await TestActor.ExpectMsgAsync("ping");
        TestActor.Reply("pong");
        Assert.Equal("pong", await other.ExpectMsgAsync<string>());
        Assert.Equal(TestActor.Ref, other.LastSender);
        Assert.Equal("question", await asking);
    }
}
