using System.Net;

namespace ClusterQueue.Protocol;

/// <summary>How task messages are encoded and which ones are accepted when decoding.</summary>
public sealed record TaskMessageCodecOptions
{
    public static readonly TaskMessageCodecOptions Default = new();

    /// <summary>JSON, kombu's only content type in Celery's default <c>accept_content</c>.</summary>
    public const string Json = "application/json";

    /// <summary>Largest body accepted, before and after decompression. 16 MiB is far above any task Celery users send.</summary>
    public long MaxBodyBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Content type written when encoding: json, msgpack, yaml or auth by name or content type (Celery's task_serializer).</summary>
    public string Serializer { get; init; } = Json;

    /// <summary>Content types decoded; any other is refused with <see cref="ContentDisallowedException"/>, and pickle always is.</summary>
    public IReadOnlySet<string> Accept { get; init; } = new HashSet<string>(StringComparer.Ordinal) { Json };

    /// <summary>Signs bodies written with the auth serializer and verifies auth bodies read; required when <see cref="Serializer"/> or <see cref="Accept"/> names auth.</summary>
    public AuthSerializer? Signing { get; init; }

    /// <summary>Compression applied when encoding (<c>zlib</c>, <c>gzip</c>, <c>bzip2</c>, <c>brotli</c> or a kombu content type), or null for none.</summary>
    public string? Compression { get; init; }

    /// <summary>The <c>origin</c> header written when a message has none: <c>gen&lt;pid&gt;@&lt;host&gt;</c>, as Celery's anon_nodename.</summary>
    public string Origin { get; init; } = $"gen{Environment.ProcessId}@{Dns.GetHostName()}";

    /// <summary>The clock that turns <see cref="TaskMessage.Expires"/> into the AMQP <c>expiration</c> property.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
