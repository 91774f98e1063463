using ClusterQueue.Actors;
using Xunit.Sdk;

namespace ClusterQueue.Tests.TestKit;

/// <summary>One actor system per test, terminated afterwards; a hung shutdown fails the test.</summary>
public abstract class ActorTestBase : IAsyncLifetime
{
    protected ActorTestBase()
    {
        Sys = ActorSystem.Create(GetType().Name);
        TestActor = CreateTestProbe("testActor");
    }

    protected ActorSystem Sys { get; }

    /// <summary>A default probe, Akka's TestActor.</summary>
    protected TestProbe TestActor { get; }

    protected static TimeSpan Patience => TestProbe.DefaultTimeout;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        try
        {
            await Sys.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new XunitException($"Actor system {Sys.Name} did not terminate within 30 s.");
        }
    }

    protected TestProbe CreateTestProbe(string? name = null) => new(Sys, name);
}
