using ClusterQueue.Node.Beat;

namespace ClusterQueue.Tests.Node.Beat;

/// <summary>Celery's crontab fields and next-run times; the parse cases are those of Celery's <c>test_schedules.py</c>.</summary>
public class CrontabTests
{
    private static int[] Minutes(string spec) => Values(Crontab.Parse($"{spec} * * * *").Minute, 0);

    private static int[] DaysOfMonth(string spec) => Values(Crontab.Parse($"* * {spec} * *").DayOfMonth, 1);

    private static int[] Values(bool[] field, int min) => [.. field.Select((on, i) => (on, i)).Where(p => p.on).Select(p => p.i + min)];

    [Fact]
    public void Star_IsTheWholeRange()
    {
        Assert.Equal(Enumerable.Range(0, 60), Minutes("*"));
        Assert.Equal(Enumerable.Range(0, 24), Values(Crontab.Parse("* * * * *").Hour, 0));
        Assert.Equal(Enumerable.Range(0, 7), Values(Crontab.Parse("* * * * *").DayOfWeek, 0));
        Assert.Equal(Enumerable.Range(1, 31), DaysOfMonth("*"));
        Assert.Equal(Enumerable.Range(1, 12), Values(Crontab.Parse("* * * * *").Month, 1));
    }

    [Theory]
    [InlineData("1-10", new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    [InlineData("1,2,3,4", new[] { 1, 2, 3, 4 })]
    [InlineData("0,15,30,45", new[] { 0, 15, 30, 45 })]
    [InlineData("2-9/5", new[] { 2, 7 })]
    [InlineData("2-10/5", new[] { 2, 7 })]
    [InlineData("2-11/5,3", new[] { 2, 3, 7 })]
    [InlineData("1-9/2", new[] { 1, 3, 5, 7, 9 })]
    [InlineData("55-5/3", new[] { 1, 4, 55, 58 })]
    [InlineData("*/20", new[] { 0, 20, 40 })]
    public void Minute_ParsesAsCelery(string spec, int[] expected)
    {
        Assert.Equal(expected, Minutes(spec));
    }

    [Fact]
    public void Steps_CountFromTheFieldMinimum()
    {
        Assert.Equal([1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31], DaysOfMonth("*/3"));
        Assert.Equal([2, 4, 6, 8, 10, 12], Values(Crontab.Parse("* * * 2-12/2 *").Month, 1));
    }

    [Fact]
    public void RangeBelowItsStart_WrapsAroundTheField()
    {
        Assert.Equal(Enumerable.Range(1, 31), DaysOfMonth("2-1"));
        Assert.Equal([0, 1, 5, 6], Values(Crontab.Parse("* * * * fri-mon").DayOfWeek, 0));
    }

    [Fact]
    public void Names_AreSundayZeroAndJanuaryOne()
    {
        Assert.Equal([1, 2, 3, 4, 5], Values(Crontab.Parse("* * * * mon-fri").DayOfWeek, 0));
        Assert.Equal([0, 6], Values(Crontab.Parse("* * * * sun,saturday").DayOfWeek, 0));
        Assert.Equal([3, 12], Values(Crontab.Parse("* * * mar,dec *").Month, 1));
    }

    [Theory]
    [InlineData("* * * *", "five fields")]
    [InlineData("1,,2 * * * *", "empty part")]
    [InlineData("*/ * * * *", "step")]
    [InlineData("-20 * * * *", "negative")]
    [InlineData("60 * * * *", "minute 60 is out of range 0-59")]
    [InlineData("* 24 * * *", "hour 24")]
    [InlineData("* * 0 * *", "day_of_month 0 is out of range 1-31")]
    [InlineData("* * * 13 *", "month_of_year 13")]
    [InlineData("* * * * 7", "day_of_week 7 is out of range 0-6")]
    [InlineData("* * * * funday", "day_of_week 'funday'")]
    [InlineData("5/15 * * * *", "a step needs a range")]
    public void BadField_IsAFormatErrorNamingTheField(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Crontab.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*/15 * * * *", "2010-05-16T13:07:30Z", "2010-05-16T13:15:00Z")]
    [InlineData("*/15 * * * *", "2010-05-16T13:15:00Z", "2010-05-16T13:30:00Z")]
    [InlineData("* * * * *", "2010-05-16T13:59:59Z", "2010-05-16T14:00:00Z")]
    [InlineData("0 3 * * *", "2024-01-31T03:00:00Z", "2024-02-01T03:00:00Z")]
    [InlineData("0 3 * * *", "2024-12-31T04:00:00Z", "2025-01-01T03:00:00Z")]
    // 2024-06-08 is a Saturday.
    [InlineData("30 7 * * mon-fri", "2024-06-08T10:00:00Z", "2024-06-10T07:30:00Z")]
    [InlineData("0 0 * * 0", "2024-06-08T10:00:00Z", "2024-06-09T00:00:00Z")]
    [InlineData("0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("0 12 1 */3 *", "2024-02-15T00:00:00Z", "2024-04-01T12:00:00Z")]
    // Celery ANDs day of month with day of week: the next Friday the 13th.
    [InlineData("0 0 13 * fri", "2024-01-01T00:00:00Z", "2024-09-13T00:00:00Z")]
    public void Next_IsTheFirstMatchingMinuteAfter(string text, string after, string expected)
    {
        var next = Crontab.Parse(text).Next(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public void Next_OfAnImpossibleDay_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => Crontab.Parse("0 0 30 2 *").Next(DateTimeOffset.UnixEpoch));
    }
}
