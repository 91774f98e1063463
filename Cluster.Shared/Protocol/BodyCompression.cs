using System.IO.Compression;

namespace ClusterQueue.Protocol;

/// <summary>Body compression named by the <c>compression</c> header, with kombu's names (kombu/compression.py).</summary>
/// <remarks>
/// kombu registers zlib under <c>application/x-gzip</c> with the aliases <c>gzip</c> and <c>zlib</c>: despite the
/// name the data is a zlib stream (<c>zlib.compress</c>), not a gzip file. Brotli is <c>application/x-brotli</c>.
/// bz2, lzma and zstd are known to kombu but have no codec here, and are refused by name.
/// </remarks>
public static class BodyCompression
{
    /// <summary>kombu's name for zlib, written in the header when sending.</summary>
    public const string Zlib = "application/x-gzip";

    /// <summary>kombu's name for brotli.</summary>
    public const string Brotli = "application/x-brotli";

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        [Zlib] = Zlib, ["gzip"] = Zlib, ["zlib"] = Zlib,
        [Brotli] = Brotli, ["brotli"] = Brotli,
    };

    private static readonly HashSet<string> KnownButUnsupported = new(StringComparer.Ordinal)
    {
        "application/x-bz2", "bzip2", "bzip", "application/x-lzma", "lzma", "xz", "application/zstd", "zstd", "zstandard",
    };

    /// <summary>The canonical content type for a name or alias, or an <see cref="UnsupportedCompressionException"/>.</summary>
    public static string Resolve(string name)
    {
        if (Aliases.TryGetValue(name, out var canonical)) return canonical;
        throw new UnsupportedCompressionException(
            name,
            KnownButUnsupported.Contains(name)
                ? $"is a kombu compression that is not supported here (supported: {Zlib}, {Brotli})"
                : $"is not a known compression (supported: {Zlib} alias gzip/zlib, {Brotli} alias brotli)");
    }

    /// <summary>Compresses a body; <paramref name="name"/> may be a content type or an alias.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> body, string name)
    {
        using var output = new MemoryStream();
        using (var stream = Open(output, Resolve(name), CompressionMode.Compress))
        {
            stream.Write(body);
        }

        return output.ToArray();
    }

    /// <summary>Decompresses a body, refusing output beyond <paramref name="maxBytes"/> so that a small bomb cannot fill memory.</summary>
    public static byte[] Decompress(ReadOnlyMemory<byte> body, string name, long maxBytes)
    {
        var canonical = Resolve(name);
        using var input = new MemoryStream(body.ToArray(), writable: false);
        using var stream = Open(input, canonical, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxBytes) throw new MessageTooLargeException("decompressed body", output.Length + read, maxBytes);
                output.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
        {
            throw new MessageDecodeException("body", $"is not valid {canonical} data: {ex.Message}", ex);
        }

        return output.ToArray();
    }

    private static Stream Open(Stream stream, string canonical, CompressionMode mode) => canonical switch
    {
        Zlib => new ZLibStream(stream, mode, leaveOpen: true),
        _ => new BrotliStream(stream, mode, leaveOpen: true),
    };
}
