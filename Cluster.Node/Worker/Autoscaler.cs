namespace ClusterQueue.Node.Worker;

/// <summary>
/// Celery's <c>Autoscaler</c> rules (celery/worker/autoscale.py), as a decision with no pool of its own: given the pool's
/// size and its load, how many slots to add or remove. The pool applies the answer through its one resize path.
/// </summary>
/// <remarks>
/// The load (Celery's <c>qty</c>, <c>len(reserved_requests)</c>) is every request the pool holds: waiting for a slot
/// or running. Requests held for an ETA or a rate-limit token are not counted, as Celery reserves them only when due.
/// Growing is immediate; shrinking waits until <see cref="Keepalive"/> has passed since the last growth by load, and
/// never happens before the first one, as in Celery, so a burst does not make the pool flap.
/// </remarks>
internal sealed class Autoscaler
{
    private readonly TimeProvider _time;
    private long? _lastScaleUp;

    public Autoscaler(int max, int min, TimeSpan keepalive, TimeProvider time)
    {
        // Celery asserts the same: "cannot scale down too fast."
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keepalive, TimeSpan.Zero);
        Max = max;
        Min = min;
        Keepalive = keepalive;
        _time = time;
    }

    public int Max { get; private set; }

    public int Min { get; private set; }

    public TimeSpan Keepalive { get; }

    /// <summary>
    /// The smallest pool the rules aim for. Celery lets <c>--autoscale N,0</c> reach zero processes; here a pool keeps
    /// one slot, because with <c>-O fair</c> a pool of none would reserve nothing and never grow again.
    /// </summary>
    private int Floor => Math.Max(Min, 1);

    /// <summary>Celery's <c>_maybe_scale</c>: slots to add (positive), remove (negative) or 0, for a pool of <paramref name="processes"/> holding <paramref name="qty"/> requests.</summary>
    public int Scale(int processes, int qty)
    {
        var wanted = Math.Min(qty, Max);
        if (wanted > processes)
        {
            _lastScaleUp = _time.GetTimestamp();
            return wanted - processes;
        }

        wanted = Math.Max(qty, Floor);
        if (wanted < processes && _lastScaleUp is { } last && _time.GetElapsedTime(last) > Keepalive)
        {
            return wanted - processes;
        }

        return 0;
    }

    /// <summary>
    /// Celery's <c>update(max, min)</c>, for the <c>autoscale</c> command: a lower max shrinks the pool to it and a
    /// higher min grows the pool to it at once; otherwise the next ticks move the pool. Returns the slots to add or remove.
    /// </summary>
    public int Update(int? max, int? min, int processes)
    {
        var target = processes;
        if (max is { } newMax)
        {
            target = Math.Min(target, newMax);
            Max = newMax;
        }

        if (min is { } newMin)
        {
            target = Math.Max(target, newMin);
            Min = newMin;
        }

        return Math.Max(target, Floor) - processes;
    }
}
