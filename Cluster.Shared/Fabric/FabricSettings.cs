namespace ClusterQueue.Fabric;

/// <summary>Worker and task events, bound from <c>cluster-queue.events</c> (Celery's <c>event_*</c> settings).</summary>
public sealed record EventsSettings
{
    public bool Enabled { get; init; }

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    public string Exchange { get; init; } = "celeryev";

    public TimeSpan QueueTtl { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan QueueExpires { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Remote control, bound from <c>cluster-queue.control</c> (Celery's <c>control_*</c> settings).</summary>
public sealed record ControlSettings
{
    /// <summary>Prefix of the exchanges: commands on <c>&lt;exchange&gt;.pidbox</c>, replies on <c>reply.&lt;exchange&gt;.pidbox</c>.</summary>
    public string Exchange { get; init; } = "celery";

    public TimeSpan QueueTtl { get; init; } = TimeSpan.FromSeconds(300);

    public TimeSpan QueueExpires { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Nodes also answer on the broker's pidbox, for Celery's own tools; off leaves the cluster carrier alone.</summary>
    public bool Pidbox { get; init; } = true;

    /// <summary>The plane commands use: <c>auto</c> (the cluster when a seed answers, else the broker), <c>cluster</c> or <c>broker</c>.</summary>
    public string Carrier { get; init; } = "auto";

    /// <summary>How long a command waits for a seed to answer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>Revoked task ids, bound from <c>cluster-queue.revocation</c>.</summary>
public sealed record RevocationSettings
{
    public int MaxIds { get; init; } = 50_000;

    public TimeSpan Expires { get; init; } = TimeSpan.FromHours(3);
}

/// <summary>Start-up sync with the other nodes, bound from <c>cluster-queue.mingle</c>.</summary>
public sealed record MingleSettings
{
    public bool Enabled { get; init; } = true;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
}
