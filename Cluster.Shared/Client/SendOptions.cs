namespace ClusterQueue.Client;

/// <summary>Per-call options of <c>apply_async</c>: when to run, where to send, and how long the task stays valid.</summary>
public sealed record SendOptions
{
    public static SendOptions Default { get; } = new();

    /// <summary>Run no earlier than this long from now. Ignored when <see cref="Eta"/> is set.</summary>
    public TimeSpan? Countdown { get; init; }

    /// <summary>Run no earlier than this time.</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>Discard the task if it has not started this long from now.</summary>
    public TimeSpan? ExpiresIn { get; init; }

    /// <summary>Discard the task if it has not started by this time. Wins over <see cref="ExpiresIn"/>.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The task id to use instead of a fresh UUID.</summary>
    public string? TaskId { get; init; }

    public string? Queue { get; init; }

    /// <summary>Publish to this exchange instead of the queue's own; needs <see cref="RoutingKey"/> unless the exchange is a fanout.</summary>
    public string? Exchange { get; init; }

    public string? RoutingKey { get; init; }

    /// <summary>0–9; higher runs first on queues declared with a maximum priority.</summary>
    public byte? Priority { get; init; }

    /// <summary>Null means the task's own setting.</summary>
    public bool? IgnoreResult { get; init; }

    public TimeSpan? TimeLimit { get; init; }

    public TimeSpan? SoftTimeLimit { get; init; }

    /// <summary>Custom headers, sent as top-level message headers as <c>apply_async(headers=...)</c> does.</summary>
    public IReadOnlyDictionary<string, object?>? Headers { get; init; }

    /// <summary><c>gzip</c>, <c>zlib</c>, <c>bzip2</c> or <c>brotli</c>; null means the publish setting.</summary>
    public string? Compression { get; init; }

    /// <summary><c>json</c>, <c>msgpack</c>, <c>yaml</c> or <c>auth</c> (with security settings), as <c>apply_async(serializer=...)</c>; null means the publish setting.</summary>
    public string? Serializer { get; init; }

    public string? ParentId { get; init; }

    public string? RootId { get; init; }

    public string? Group { get; init; }

    public string? ReplyTo { get; init; }

    /// <summary>Celery's <c>link</c>: signatures applied with the result when the task succeeds.</summary>
    public IReadOnlyList<Protocol.Signature>? Link { get; init; }

    /// <summary>Celery's <c>link_error</c>: signatures applied with the task's id when it fails.</summary>
    public IReadOnlyList<Protocol.Signature>? LinkError { get; init; }
}
