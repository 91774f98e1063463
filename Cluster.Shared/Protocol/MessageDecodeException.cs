namespace ClusterQueue.Protocol;

/// <summary>A message could not be decoded; <see cref="Field"/> names the part at fault, e.g. <c>header 'id'</c> or <c>body[1]</c>.</summary>
public class MessageDecodeException(string field, string problem, Exception? inner = null)
    : Exception($"{field} {problem}", inner)
{
    /// <summary>The part of the message at fault: <c>header 'eta'</c>, <c>body[2].chain[0].task</c>, <c>property 'content_type'</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>The message's content type is refused: not in the accept list, or pickle, which is refused always (kombu's ContentDisallowed).</summary>
/// <remarks>The wording is kombu's, so that a log search that works for a Python worker works here too.</remarks>
public sealed class ContentDisallowedException : MessageDecodeException
{
    public ContentDisallowedException(string contentType, IEnumerable<string> accepted)
        : this(contentType, $"is refused: Refusing to deserialize untrusted content of type {Alias(contentType)} (accept list: {string.Join(", ", accepted)})")
    {
    }

    private ContentDisallowedException(string contentType, string problem)
        : base("property 'content_type'", problem)
    {
        ContentType = contentType;
    }

    public string ContentType { get; }

    /// <summary>The refusal of a pickle message, whatever the accept list says.</summary>
    public static ContentDisallowedException Pickle() =>
        new(BodySerializers.Pickle, $"is refused: Refusing to deserialize {Alias(BodySerializers.Pickle)} content: {BodySerializers.PickleRefusal}");

    /// <summary>kombu's parenthesize_alias: <c>msgpack (application/x-msgpack)</c>, or the bare type when kombu has no name for it.</summary>
    private static string Alias(string contentType) =>
        BodySerializers.NameOf(contentType) is { } name ? $"{name} ({contentType})" : $"'{contentType}'";
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
