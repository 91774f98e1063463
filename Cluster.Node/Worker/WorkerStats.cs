namespace ClusterQueue.Node.Worker;

/// <summary>Live task counters of one worker node; every read is a thread-safe snapshot of one counter.</summary>
public sealed class WorkerStats
{
    private long _received;
    private long _started;
    private long _succeeded;
    private long _failed;
    private long _retried;
    private long _revoked;
    private long _rejected;
    private long _active;
    private long _reserved;

    /// <summary>Task messages accepted from the broker (bad messages count as rejected, not received).</summary>
    public long Received => Interlocked.Read(ref _received);

    public long Started => Interlocked.Read(ref _started);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public long Retried => Interlocked.Read(ref _retried);

    public long Revoked => Interlocked.Read(ref _revoked);

    /// <summary>Messages sent to a dead-letter queue: undecodable or naming an unknown task.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Tasks running on an executor now.</summary>
    public long Active => Interlocked.Read(ref _active);

    /// <summary>Tasks received and not yet started: waiting for a slot, an ETA or a rate-limit token.</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    public override string ToString() =>
        $"received={Received} started={Started} succeeded={Succeeded} failed={Failed} retried={Retried} revoked={Revoked} rejected={Rejected} active={Active} reserved={Reserved}";

    // Gauges move before the totals, so a reader who sees a total has also seen the gauge it implies.
    internal void OnReceived()
    {
        Interlocked.Increment(ref _reserved);
        Interlocked.Increment(ref _received);
    }

    /// <summary>A reserved task left without running: requeued at shutdown, or dropped because its consumer was lost.</summary>
    internal void OnUnreserved() => Interlocked.Decrement(ref _reserved);

    internal void OnStarted()
    {
        Interlocked.Decrement(ref _reserved);
        Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _started);
    }

    internal void OnFinished() => Interlocked.Decrement(ref _active);

    internal void OnSucceeded() => Interlocked.Increment(ref _succeeded);

    internal void OnFailed() => Interlocked.Increment(ref _failed);

    internal void OnRetried() => Interlocked.Increment(ref _retried);

    internal void OnRevoked() => Interlocked.Increment(ref _revoked);

    internal void OnRejected() => Interlocked.Increment(ref _rejected);
}
