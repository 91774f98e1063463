namespace ClusterQueue.Protocol;

/// <summary>A message could not be decoded; <see cref="Field"/> names the part at fault, e.g. <c>header 'id'</c> or <c>body[1]</c>.</summary>
public class MessageDecodeException(string field, string problem, Exception? inner = null)
    : Exception($"{field} {problem}", inner)
{
    /// <summary>The part of the message at fault: <c>header 'eta'</c>, <c>body[2].chain[0].task</c>, <c>property 'content_type'</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>The message's content type is not in the accept list (kombu's ContentDisallowed).</summary>
public sealed class ContentDisallowedException(string contentType, IEnumerable<string> accepted)
    : MessageDecodeException("property 'content_type'", $"'{contentType}' is not in the accept list [{string.Join(", ", accepted)}]")
{
    public string ContentType { get; } = contentType;
}

/// <summary>The body is larger than the configured limit; it was refused before any parsing or decompression finished.</summary>
public sealed class MessageTooLargeException(string field, long size, long limit)
    : MessageDecodeException(field, $"is larger than the limit of {limit} bytes (at least {size} bytes)")
{
    public long Size { get; } = size;

    public long Limit { get; } = limit;
}

/// <summary>The <c>compression</c> header names a method that is unknown or not supported here.</summary>
public sealed class UnsupportedCompressionException(string compression, string reason)
    : MessageDecodeException("header 'compression'", $"'{compression}' {reason}")
{
    public string Compression { get; } = compression;
}
