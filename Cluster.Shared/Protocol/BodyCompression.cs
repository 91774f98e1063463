using System.IO.Compression;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.BZip2;

namespace ClusterQueue.Protocol;

/// <summary>Body compression named by the <c>compression</c> header, with kombu's names (kombu/compression.py).</summary>
/// <remarks>
/// kombu registers zlib under <c>application/x-gzip</c> with the aliases <c>gzip</c> and <c>zlib</c>: despite the
/// name the data is a zlib stream (<c>zlib.compress</c>), not a gzip file, so <c>gzip</c> and <c>zlib</c> send the
/// same bytes. When decoding, a body that starts with the gzip magic (1f 8b) is read as a gzip file instead, since
/// a zlib stream never starts that way and some non-kombu producers send real gzip under that name. bzip2 is
/// <c>application/x-bz2</c> and brotli <c>application/x-brotli</c>. lzma and zstd are known to kombu but have no
/// codec here, and are refused by name.
/// </remarks>
public static class BodyCompression
{
    /// <summary>kombu's name for zlib, written in the header when sending.</summary>
    public const string Zlib = "application/x-gzip";

    /// <summary>kombu's name for bzip2.</summary>
    public const string Bzip2 = "application/x-bz2";

    /// <summary>kombu's name for brotli.</summary>
    public const string Brotli = "application/x-brotli";

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        [Zlib] = Zlib, ["gzip"] = Zlib, ["zlib"] = Zlib,
        [Bzip2] = Bzip2, ["bzip2"] = Bzip2, ["bzip"] = Bzip2,
        [Brotli] = Brotli, ["brotli"] = Brotli,
    };

    private static readonly HashSet<string> KnownButUnsupported = new(StringComparer.Ordinal)
    {
        "application/x-lzma", "lzma", "xz", "application/zstd", "zstd", "zstandard",
    };

    /// <summary>The canonical content type for a name or alias, or an <see cref="UnsupportedCompressionException"/>.</summary>
    public static string Resolve(string name)
    {
        if (Aliases.TryGetValue(name, out var canonical)) return canonical;
        throw new UnsupportedCompressionException(
            name,
            KnownButUnsupported.Contains(name)
                ? $"is a kombu compression that is not supported here (supported: {Zlib}, {Bzip2}, {Brotli})"
                : $"is not a known compression (supported: {Zlib} alias gzip/zlib, {Bzip2} alias bzip2, {Brotli} alias brotli)");
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
        var gzipFile = canonical == Zlib && body.Length >= 2 && body.Span[0] == 0x1f && body.Span[1] == 0x8b;
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        try
        {
            using var input = new MemoryStream(body.ToArray(), writable: false);
            using var stream = gzipFile ? new GZipStream(input, CompressionMode.Decompress, leaveOpen: true) : Open(input, canonical, CompressionMode.Decompress);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxBytes) throw new MessageTooLargeException("decompressed body", output.Length + read, maxBytes);
                output.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or SharpZipBaseException or EndOfStreamException or IOException)
        {
            throw new MessageDecodeException("body", $"is not valid {canonical} ({Describe(canonical, gzipFile)}) data: {ex.Message}", ex);
        }

        return output.ToArray();
    }

    private static string Describe(string canonical, bool gzipFile) => canonical switch
    {
        Zlib => gzipFile ? "gzip" : "zlib",
        Bzip2 => "bzip2",
        _ => "brotli",
    };

    private static Stream Open(Stream stream, string canonical, CompressionMode mode) => (canonical, mode) switch
    {
        (Zlib, _) => new ZLibStream(stream, mode, leaveOpen: true),

        // Python's bz2.compress uses block size 9, the largest; the same here keeps the ratio equal.
        (Bzip2, CompressionMode.Compress) => new BZip2OutputStream(stream, 9) { IsStreamOwner = false },
        (Bzip2, _) => new BZip2InputStream(stream) { IsStreamOwner = false },
        _ => new BrotliStream(stream, mode, leaveOpen: true),
    };
}
