using ClusterQueue.Config;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Config;

public class HoconUnitsTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("500ms", 500)]
    [InlineData("500", 500)]
    [InlineData("2 minutes", 120_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("0", 0)]
    [InlineData("3 seconds", 3_000)]
    [InlineData("250 millis", 250)]
    public void Duration_ParsesHoconUnits(string text, long milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), HoconDuration.Parse(text));
    }

    [Theory]
    [InlineData("1500us", 15_000)]
    [InlineData("100ns", 1)]
    public void Duration_ParsesSubMillisecondUnitsToTicks(string text, long ticks)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), HoconDuration.Parse(text));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("10 parsecs")]
    [InlineData("-5s")]
    [InlineData("")]
    [InlineData("s")]
    public void BadDuration_SaysWhatWasExpected(string text)
    {
        var error = Assert.Throws<FormatException>(() => HoconDuration.Parse(text));
        Assert.Equal($"expected a duration such as 30s, 500ms, 2 minutes or 1d but found '{text}'", error.Message);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("64MiB", 64L * 1024 * 1024)]
    [InlineData("1k", 1024)]
    [InlineData("1K", 1024)]
    [InlineData("10 MB", 10_000_000)]
    [InlineData("10 kB", 10_000)]
    [InlineData("2GiB", 2L * 1024 * 1024 * 1024)]
    [InlineData("3 bytes", 3)]
    [InlineData("1.5KiB", 1536)]
    public void Size_ParsesHoconUnits(string text, long bytes)
    {
        Assert.Equal(new ByteSize(bytes), ByteSize.Parse(text));
    }

    [Theory]
    [InlineData("big")]
    [InlineData("10 XB")]
    [InlineData("-1k")]
    [InlineData("99999999TB")]
    public void BadSize_SaysWhatWasExpected(string text)
    {
        var error = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Equal($"expected a size such as 512, 64KiB, 1k, 10 MB or 2GiB but found '{text}'", error.Message);
    }

    [Fact]
    public void Duration_InSeconds_RoundTripsForAnyWholeNumber()
    {
        Prop.ForAll(Gen.Choose(0, 10_000_000).ToArbitrary(), seconds =>
                HoconDuration.Parse($"{seconds}s") == TimeSpan.FromSeconds(seconds)
                && HoconDuration.Parse($"{seconds} seconds") == TimeSpan.FromSeconds(seconds))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Size_InKibibytes_RoundTripsForAnyWholeNumber()
    {
        Prop.ForAll(Gen.Choose(0, 1_000_000).ToArbitrary(), k =>
                ByteSize.Parse($"{k}KiB").Bytes == k * 1024L && ByteSize.Parse($"{k}kB").Bytes == k * 1000L)
            .QuickCheckThrowOnFailure();
    }
}
