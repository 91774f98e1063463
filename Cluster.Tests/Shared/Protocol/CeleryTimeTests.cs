using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>eta/expires text: written as Python's isoformat, read as Celery's own ISO-8601 parser reads it.</summary>
public sealed class CeleryTimeTests
{
    private static readonly DateTimeOffset Base = new(2026, 11, 21, 9, 35, 45, TimeSpan.Zero);

    [Fact]
    public void Format_WritesSixFractionalDigitsAndOffset() =>
        Assert.Equal("2026-11-21T09:35:45.586688+00:00", CeleryTime.Format(Base.AddTicks(5866880)));

    [Fact]
    public void Format_LeavesOutAZeroFraction_AsPythonDoes() =>
        Assert.Equal("2026-11-21T09:35:45+00:00", CeleryTime.Format(Base));

    [Fact]
    public void Format_PadsSmallFractions() =>
        Assert.Equal("2026-11-21T09:35:45.000500+00:00", CeleryTime.Format(Base.AddTicks(5000)));

    [Fact]
    public void Format_DropsTicksBelowAMicrosecond() =>
        Assert.Equal("2026-11-21T09:35:45.000001+00:00", CeleryTime.Format(Base.AddTicks(19)));

    [Fact]
    public void Format_KeepsTheValuesOffset_AsIsoformatOfAnAwareDatetime() =>
        Assert.Equal("2026-11-21T09:35:45-05:30", CeleryTime.Format(new DateTimeOffset(2026, 11, 21, 9, 35, 45, new TimeSpan(-5, -30, 0))));

    [Theory]
    [InlineData("2026-11-21T09:35:45.586688+00:00", 5866880L, 0)]
    [InlineData("2026-11-21T09:35:45.586688Z", 5866880L, 0)]
    [InlineData("2026-11-21 09:35:45.586688+00:00", 5866880L, 0)]
    [InlineData("2026-11-21T09:35:45+00:00", 0L, 0)]
    [InlineData("2026-11-21T09:35:45", 0L, 0)]
    [InlineData("2026-11-21T09:35:45.5", 50L, 0)]
    [InlineData("2026-11-21T09:35:45.500", 5000L, 0)]
    [InlineData("2026-11-21T09:35:45.000500", 5000L, 0)]
    [InlineData("2026-11-21T11:35:45.1+02:00", 10L, 120)]
    [InlineData("2026-11-21T04:05:45-05:30", 0L, -330)]
    public void Parse_ReadsEveryFormPythonSends_WithTheFractionInMicroseconds(string text, long ticks, int offsetMinutes)
    {
        var parsed = CeleryTime.Parse(text, "header 'eta'");

        Assert.Equal(Base.AddTicks(ticks), parsed);
        Assert.Equal(TimeSpan.FromMinutes(offsetMinutes), parsed.Offset);
    }

    [Fact]
    public void Parse_DateOnly_IsMidnightUtc() =>
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), CeleryTime.Parse("2026-11-21", "header 'eta'"));

    [Fact]
    public void Parse_SevenFractionalDigits_IsATypedErrorNamingTheField()
    {
        var error = Assert.Throws<MessageDecodeException>(() => CeleryTime.Parse("2026-11-21T09:35:45.5866880+00:00", "header 'expires'"));

        Assert.Equal("header 'expires'", error.Field);
        Assert.Contains("7 fractional digits", error.Message);
    }

    [Theory]
    [InlineData("tomorrow")]
    [InlineData("2026-11-21T09:35:45+00:00 and more")]
    [InlineData("2026-13-21T09:35:45")]
    [InlineData("2026-11-21X09:35:45")]
    [InlineData("2026-11-21T9:35:45")]
    [InlineData("2026-11-21T09:35:45+0000")]
    [InlineData("2026-11-21T09:35:45.")]
    [InlineData("2026-11-21T24:00:00")]
    public void Parse_Garbage_IsATypedErrorNamingTheField(string text)
    {
        var error = Assert.Throws<MessageDecodeException>(() => CeleryTime.Parse(text, "header 'eta'"));

        Assert.Equal("header 'eta'", error.Field);
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public void FormatThenParse_RoundTripsAtMicrosecondPrecision()
    {
        var value = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.FromHours(9)).AddTicks(1234560);

        Assert.Equal(value, CeleryTime.Parse(CeleryTime.Format(value), "eta"));
    }
}
