using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Node.Pool;

/// <summary>
/// The frames a prefork parent and its child exchange on their socket: a 4-byte big-endian length, then that many
/// bytes of one UTF-8 JSON object. JSON because task arguments and results already are JSON; a length prefix because a
/// socket is a byte stream.
/// </summary>
internal static class PoolFrames
{
    /// <summary>A frame above this is a broken peer, not a big result: Celery's own message limits are far below it.</summary>
    public const int MaxFrameBytes = 512 * 1024 * 1024;

    public static async Task WriteAsync(Stream stream, JsonObject frame, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(frame);
        var buffer = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(buffer, body.Length);
        body.CopyTo(buffer.AsSpan(4));
        // One write per frame, so a frame is never interleaved with another writer's.
        await stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next frame, or null when the peer closed the socket between frames.</summary>
    /// <exception cref="InvalidDataException">The peer sent something that is not a frame.</exception>
    public static async Task<JsonObject?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var header = new byte[4];
        var read = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new InvalidDataException("the pool socket closed inside a frame header");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 2 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"a pool frame of {length} bytes is out of range");
        }

        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(body) as JsonObject ?? throw new InvalidDataException("a pool frame is not a JSON object");
    }
}
