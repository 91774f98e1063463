namespace ClusterQueue.Fabric.Events;

/// <summary>The <c>utcoffset</c> event field: <c>time.timezone // 3600</c>, hours west of UTC, floored (interop note 10).</summary>
/// <remarks>
/// The sign is the opposite of ISO's: UTC+1 gives −1, New York (UTC−5) gives 5, and UTC+5:30 gives −6 because of floor
/// division. Python monitors shift timestamps by this value, so a "natural" sign would move events by hours.
/// </remarks>
public static class CeleryUtcOffset
{
    public static int FromOffset(TimeSpan utcOffset) => (int)Math.Floor(-utcOffset.TotalSeconds / 3600);

    /// <summary>The field for <paramref name="zone"/> at <paramref name="at"/> (DST included, as Celery uses <c>altzone</c> then).</summary>
    public static int For(TimeZoneInfo zone, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return FromOffset(zone.GetUtcOffset(at));
    }
}
