using ClusterQueue.Node.Commands;
using ClusterQueue.Node.Worker;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Celery's autoscale rules on a clock the test moves: grow at once, shrink only after the keepalive.</summary>
public sealed class AutoscalerTests
{
    private static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(30);

    private readonly SteppedClock _clock = new();

    private Autoscaler Scaler(int max = 10, int min = 2) => new(max, min, Keepalive, _clock);

    [Fact]
    public void Scale_WithABacklog_GrowsByTheMissingSlots()
    {
        Assert.Equal(3, Scaler().Scale(processes: 2, qty: 5));
    }

    [Fact]
    public void Scale_WithABacklogBeyondMax_GrowsOnlyToMax()
    {
        var scaler = Scaler(max: 4);

        Assert.Equal(2, scaler.Scale(processes: 2, qty: 100));
        Assert.Equal(0, scaler.Scale(processes: 4, qty: 100));
    }

    [Fact]
    public void Scale_WithLoadEqualToThePool_DoesNothing()
    {
        Assert.Equal(0, Scaler().Scale(processes: 3, qty: 3));
    }

    [Fact]
    public void Scale_IdleBeforeTheKeepaliveHasPassed_DoesNotShrink()
    {
        var scaler = Scaler(max: 4);
        scaler.Scale(processes: 2, qty: 8);

        _clock.Advance(Keepalive);

        // Celery shrinks only once more than the keepalive has passed.
        Assert.Equal(0, scaler.Scale(processes: 4, qty: 0));
    }

    [Fact]
    public void Scale_IdleAfterTheKeepalive_ShrinksToMin()
    {
        var scaler = Scaler(max: 4, min: 2);
        scaler.Scale(processes: 2, qty: 8);

        _clock.Advance(Keepalive + TimeSpan.FromMilliseconds(1));

        Assert.Equal(-2, scaler.Scale(processes: 4, qty: 0));
    }

    [Fact]
    public void Scale_AfterTheKeepaliveWithSomeLoad_ShrinksOnlyToTheLoad()
    {
        var scaler = Scaler(max: 8, min: 1);
        scaler.Scale(processes: 1, qty: 8);

        _clock.Advance(Keepalive + TimeSpan.FromSeconds(1));

        Assert.Equal(-5, scaler.Scale(processes: 8, qty: 3));
    }

    [Fact]
    public void Scale_AGrowthRestartsTheKeepalive()
    {
        var scaler = Scaler(max: 6, min: 2);
        scaler.Scale(processes: 2, qty: 4);
        _clock.Advance(TimeSpan.FromSeconds(20));
        scaler.Scale(processes: 4, qty: 6);

        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, scaler.Scale(processes: 6, qty: 0));

        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(-4, scaler.Scale(processes: 6, qty: 0));
    }

    [Fact]
    public void Scale_WithoutAnyGrowthByLoad_NeverShrinks()
    {
        // Celery's _last_scale_up starts as None: a pool above min that never grew by load stays as it is.
        var scaler = Scaler(max: 6, min: 2);

        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, scaler.Scale(processes: 5, qty: 0));
    }

    [Fact]
    public void Scale_WithMinZero_KeepsOneSlot()
    {
        var scaler = Scaler(max: 4, min: 0);
        scaler.Scale(processes: 1, qty: 4);

        _clock.Advance(Keepalive + TimeSpan.FromSeconds(1));

        Assert.Equal(-3, scaler.Scale(processes: 4, qty: 0));
        Assert.Equal(0, scaler.Scale(processes: 1, qty: 0));
    }

    [Fact]
    public void Update_LowerMax_ShrinksAtOnceAndCapsLaterGrowth()
    {
        var scaler = Scaler(max: 10, min: 2);

        Assert.Equal(-3, scaler.Update(max: 5, min: null, processes: 8));
        Assert.Equal((5, 2), (scaler.Max, scaler.Min));
        Assert.Equal(0, scaler.Scale(processes: 5, qty: 50));
    }

    [Fact]
    public void Update_HigherMin_GrowsAtOnce()
    {
        var scaler = Scaler(max: 10, min: 2);

        Assert.Equal(4, scaler.Update(max: null, min: 6, processes: 2));
        Assert.Equal((10, 6), (scaler.Max, scaler.Min));
    }

    [Fact]
    public void Update_WithinTheRange_LeavesThePoolToTheTicks()
    {
        var scaler = Scaler(max: 10, min: 2);

        Assert.Equal(0, scaler.Update(max: 8, min: 3, processes: 4));
        Assert.Equal(4, scaler.Scale(processes: 4, qty: 20));
    }

    [Fact]
    public void Update_HigherMin_SetsTheFloorShrinkingStopsAt()
    {
        var scaler = Scaler(max: 8, min: 1);
        scaler.Scale(processes: 1, qty: 8);
        scaler.Update(max: null, min: 3, processes: 8);

        _clock.Advance(Keepalive + TimeSpan.FromSeconds(1));

        Assert.Equal(-5, scaler.Scale(processes: 8, qty: 0));
    }

    [Fact]
    public void Constructor_ZeroKeepalive_IsRefusedAsCeleryDoes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Autoscaler(4, 1, TimeSpan.Zero, _clock));
    }

    [Theory]
    [InlineData("10,3", 10, 3)]
    [InlineData("10", 10, 0)]
    [InlineData("3,10", 10, 3)]
    [InlineData("4, 2", 4, 2)]
    public void ParseAutoscale_ReadsCelerysForms(string text, int max, int min)
    {
        Assert.Equal((max, min, (string?)null), WorkerOptions.ParseAutoscale(text));
    }

    [Theory]
    [InlineData("x,1")]
    [InlineData("10,")]
    [InlineData("-1,2")]
    [InlineData("1,2,3")]
    [InlineData("0")]
    public void ParseAutoscale_BadInput_NamesTheFlag(string text)
    {
        var (_, _, error) = WorkerOptions.ParseAutoscale(text);

        Assert.NotNull(error);
        Assert.StartsWith("--autoscale", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, 5)]
    [InlineData(-1, 0)]
    [InlineData(4, -1)]
    public void Validate_ABadRange_NamesTheKey(int max, int min)
    {
        var settings = new WorkerSettings { Autoscale = new AutoscaleSettings { Max = max, Min = min } };

        var error = Assert.ThrowsAny<ArgumentException>(settings.Validate);

        Assert.StartsWith("cluster-queue.node.autoscale.", error.ParamName, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ZeroKeepalive_NamesTheKey()
    {
        var settings = new WorkerSettings { Autoscale = new AutoscaleSettings { Max = 4, Keepalive = TimeSpan.Zero } };

        Assert.Equal("cluster-queue.node.autoscale.keepalive", Assert.ThrowsAny<ArgumentException>(settings.Validate).ParamName);
    }

    /// <summary>A monotonic clock that moves only when the test moves it; timestamps are ticks.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks = TimeSpan.FromDays(1).Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
