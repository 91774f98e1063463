using System.Text;
using System.Text.Json;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>Celery's auth serializer: signed bodies round trip, and tampered, foreign or cut payloads are decode failures naming the problem.</summary>
public sealed class AuthSerializerTests(AuthSerializerTests.Keys fixture) : IClassFixture<AuthSerializerTests.Keys>
{
    private static readonly string Fixtures = Path.Combine(CapturedMessages.Folder, "auth");

    private static readonly JsonElement Vectors = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures, "auth-vectors.json"))).RootElement.Clone();

    private static readonly HashSet<string> AuthOnly = new(StringComparer.Ordinal) { BodySerializers.Auth };

    private static readonly TaskMessage Add = new() { Task = "tasks.add", Id = "id-1", Args = [2, 2], Origin = "gen1@test" };

    private readonly SigningKeys keys = fixture.Ours;

    private readonly SigningKeys stranger = fixture.Stranger;

    public static TheoryData<string> VectorNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Vectors.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zlib")]
    public void Message_RoundTripsSignedAsCeleryWritesIt(string? compression)
    {
        var codec = new TaskMessageCodec(Codec(keys.Load()).Options with { Compression = compression });

        var envelope = codec.Encode(Add);
        var decoded = codec.Decode(envelope);

        Assert.Equal(BodySerializers.Auth, envelope.Properties.ContentType);
        Assert.Equal("utf-8", envelope.Properties.ContentEncoding);
        Assert.Equal(new TaskMessageCodec().Decode(new TaskMessageCodec().Encode(Add)), decoded);
        var signed = keys.Load().Verify(Compressed(envelope, compression) is { } raw ? raw : envelope.Body.Span);
        Assert.Equal(BodySerializers.Json, signed.ContentType);
        Assert.Equal("utf-8", signed.ContentEncoding);
        Assert.Equal(new TaskMessageCodec().Encode(Add).Body.ToArray(), signed.Body.ToArray());
    }

    [Fact]
    public void Signer_IsTheIssuerValuesAndTheDecimalSerial_AsCeleryGetId()
    {
        var signer = AuthSerializer.Load(Fixture("test-key.pem"), Fixture("test-cert.pem"), Fixture("test-cert.pem"), "sha256");

        Assert.Equal(Vectors.GetProperty("signer").GetString(), signer.Signer);
        Assert.Equal([signer.Signer], signer.KnownSigners);
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void PayloadSignedByPythonsSecureSerializer_Verifies_AndDecodesAsItsJsonBody(string name)
    {
        var vector = Vectors.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var signer = AuthSerializer.Load(Fixture("test-key.pem"), Fixture("test-cert.pem"), Fixture("test-cert.pem"), vector.GetProperty("digest").GetString()!);
        var payload = Encoding.ASCII.GetBytes(vector.GetProperty("payload").GetString()!);
        var json = vector.GetProperty("json").GetString()!;

        var signed = signer.Verify(payload);
        var decoded = Codec(signer).Decode(Message(payload));

        Assert.Equal(BodySerializers.Json, signed.ContentType);
        Assert.Equal(json, Encoding.UTF8.GetString(signed.Body.Span));
        Assert.Equal(new TaskMessageCodec().Decode(Message(Encoding.UTF8.GetBytes(json), BodySerializers.Json)), decoded);
    }

    [Fact]
    public void PythonPayload_WithAnotherDigest_HasABadSignature()
    {
        var vector = Vectors.GetProperty("cases")[0];
        var signer = AuthSerializer.Load(Fixture("test-key.pem"), Fixture("test-cert.pem"), Fixture("test-cert.pem"), "sha512");

        var error = Assert.Throws<MessageSignatureException>(() => signer.Verify(Encoding.ASCII.GetBytes(vector.GetProperty("payload").GetString()!)));

        Assert.Contains("bad signature", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(100)]
    public void TamperedPayload_IsADecodeFailure_NamingTheBadSignature(int at)
    {
        // A negative position counts from the end, in the body; a positive one is in the signature.
        var codec = Codec(keys.Load());
        var tampered = SigningKeys.Tamper(codec.Encode(Add), at < 0 ? at : SignatureStart(keys) + at);

        var error = Assert.Throws<MessageSignatureException>(() => codec.Decode(tampered));

        Assert.Equal("body", error.Field);
        Assert.Contains("has a bad signature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageFromAnUnknownSigner_IsADecodeFailure_NamingTheSigner()
    {
        var envelope = Codec(stranger.Load()).Encode(Add);

        var error = Assert.Throws<MessageSignatureException>(() => Codec(keys.Load()).Decode(envelope));

        Assert.Contains($"unknown certificate '{stranger.Load().Signer}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MessageSignedByAnotherKey_UnderAKnownSignersName_HasABadSignature()
    {
        // The stranger's key with our certificate's id: only the signature can tell them apart.
        var envelope = Codec(stranger.Load()).Encode(Add);
        var forged = Encoding.UTF8.GetBytes(keys.Load().Signer).Concat(SigningKeys.Raw(envelope).Skip(SignatureStart(stranger) - 2)).ToArray();

        var error = Assert.Throws<MessageSignatureException>(() => Codec(keys.Load()).Decode(SigningKeys.WithRaw(envelope, forged)));

        Assert.Contains("bad signature", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Cut points counted from the start of the 256-byte signature: in the signer, in the signature, after it, in the fields, in the body.</summary>
    [Fact]
    public void SignatureLargerThanTheModulus_IsABadSignature()
    {
        var codec = Codec(keys.Load());
        var envelope = codec.Encode(Add);
        var raw = SigningKeys.Raw(envelope);
        raw.AsSpan(SignatureStart(keys), 256).Fill(0xff);

        var error = Assert.Throws<MessageSignatureException>(() => codec.Decode(SigningKeys.WithRaw(envelope, raw)));

        Assert.Contains("has a bad signature", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-2 - 100, "no signer field")]
    [InlineData(-1, "no signer field")]
    [InlineData(0, "truncated")]
    [InlineData(255, "truncated")]
    [InlineData(256, "truncated")]
    [InlineData(258, "truncated")]
    [InlineData(258 + 10, "truncated")]
    [InlineData(258 + 18, "truncated")]
    [InlineData(258 + 18 + 8, "bad signature")]
    public void TruncatedPayload_IsADecodeFailure(int keepFromSignature, string expected)
    {
        var codec = Codec(keys.Load());
        var envelope = codec.Encode(Add);
        var keep = Math.Max(0, SignatureStart(keys) + keepFromSignature);

        var error = Assert.Throws<MessageSignatureException>(() => codec.Decode(SigningKeys.WithRaw(envelope, SigningKeys.Raw(envelope)[..keep])));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PayloadThatIsNotBase64_IsADecodeFailure()
    {
        var error = Assert.Throws<MessageSignatureException>(() => Codec(keys.Load()).Decode(Message("[[2, 2], {}, {}]"u8.ToArray())));

        Assert.Contains("not base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignedPickle_IsRefusedLikeAnyPickle()
    {
        var signer = keys.Load();
        var payload = signer.Sign("\x80\x04N."u8, BodySerializers.Pickle, "binary");

        Assert.Throws<ContentDisallowedException>(() => Codec(signer).Decode(Message(payload)));
    }

    [Fact]
    public void UnsignedJson_IsRefused_WhenOnlyAuthIsAccepted()
    {
        var error = Assert.Throws<ContentDisallowedException>(() => Codec(keys.Load()).Decode(new TaskMessageCodec().Encode(Add)));

        Assert.Equal(BodySerializers.Json, error.ContentType);
    }

    [Fact]
    public void AuthWithoutSigning_IsRefusedWhenTheCodecIsMade()
    {
        Assert.Throws<ArgumentException>(() => new TaskMessageCodec(new TaskMessageCodecOptions { Serializer = "auth" }));
        Assert.Throws<ArgumentException>(() => new TaskMessageCodec(new TaskMessageCodecOptions { Accept = AuthOnly }));
        Assert.Throws<ArgumentException>(() => new TaskMessageCodec().Encode(Add with { Serializer = "auth" }));
    }

    [Fact]
    public void Load_RefusesBadSettings_NamingEach()
    {
        var expired = SigningKeys.Create("CN=Expired", notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        var empty = Directory.CreateTempSubdirectory("cq-signing-empty-").FullName;
        try
        {
            AssertRefused("key-file", "is not set", () => AuthSerializer.Load("", keys.CertificateFile, keys.StoreDirectory, "sha256", "s."));
            AssertRefused("key-file", "cannot read", () => AuthSerializer.Load(keys.KeyFile + ".missing", keys.CertificateFile, keys.StoreDirectory, "sha256", "s."));
            AssertRefused("key-file", "not an unencrypted RSA private key", () => AuthSerializer.Load(keys.CertificateFile, keys.CertificateFile, keys.StoreDirectory, "sha256", "s."));
            AssertRefused("key-file", "does not belong to the certificate", () => AuthSerializer.Load(stranger.KeyFile, keys.CertificateFile, keys.StoreDirectory, "sha256", "s."));
            AssertRefused("certificate-file", "not a PEM certificate", () => AuthSerializer.Load(keys.KeyFile, keys.KeyFile, keys.StoreDirectory, "sha256", "s."));
            AssertRefused("cert-store", "names no certificate files", () => AuthSerializer.Load(keys.KeyFile, keys.CertificateFile, empty, "sha256", "s."));
            AssertRefused("cert-store", "expired on", () => AuthSerializer.Load(keys.KeyFile, keys.CertificateFile, expired.StoreDirectory, "sha256", "s."));
            AssertRefused("digest", "'md5' is not a supported digest", () => AuthSerializer.Load(keys.KeyFile, keys.CertificateFile, keys.StoreDirectory, "md5", "s."));
        }
        finally
        {
            expired.Dispose();
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void CertStore_TakesADirectoryAFileOrAPattern_AsCeleryGlobs()
    {
        var store = Directory.CreateTempSubdirectory("cq-signing-store-").FullName;
        try
        {
            File.Copy(keys.CertificateFile, Path.Combine(store, "ours.pem"));
            File.Copy(stranger.CertificateFile, Path.Combine(store, "stranger.pem"));

            Assert.Equal(2, keys.Load(store).KnownSigners.Count);
            Assert.Equal([keys.Load().Signer], keys.Load(store: keys.CertificateFile).KnownSigners);
            Assert.Equal([stranger.Load().Signer], keys.Load(store: Path.Combine(store, "str*.pem")).KnownSigners);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public void Digest_IsCaseInsensitive_AndAPayloadVerifiesOnlyWithItsOwn()
    {
        var sha512 = Codec(keys.Load(digest: "SHA512"));

        var envelope = sha512.Encode(Add);

        Assert.Equal(Add.Task, sha512.Decode(envelope).Task);
        Assert.Throws<MessageSignatureException>(() => Codec(keys.Load()).Decode(envelope));
    }

    private static void AssertRefused(string setting, string expected, Action load)
    {
        var error = Assert.Throws<ArgumentException>(load);
        Assert.Equal("s." + setting, error.ParamName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static TaskMessageCodec Codec(AuthSerializer signer) =>
        new(new TaskMessageCodecOptions { Serializer = "auth", Accept = AuthOnly, Signing = signer, Origin = "gen1@test" });

    /// <summary>A task message with just the headers the codec requires.</summary>
    private static Envelope Message(byte[] body, string contentType = BodySerializers.Auth) => new()
    {
        Body = body,
        Properties = new MessageProperties { ContentType = contentType },
        Headers = new Dictionary<string, object?> { ["task"] = "tasks.echo", ["id"] = "0f4e0d2c-3e1a-4b8e-9a40-1c2d3e4f5a6b" },
    };

    /// <summary>Where the signature starts in a raw payload: after the signer's id and one separator.</summary>
    private static int SignatureStart(SigningKeys signer) => Encoding.UTF8.GetByteCount(signer.Load().Signer) + 2;

    private static byte[]? Compressed(Envelope envelope, string? compression) =>
        compression is null ? null : BodyCompression.Decompress(envelope.Body, compression, long.MaxValue);

    private static string Fixture(string file) => Path.Combine(Fixtures, file);

    /// <summary>Two key pairs for the whole class: making RSA keys takes long on a small machine.</summary>
    public sealed class Keys : IDisposable
    {
        public SigningKeys Ours { get; } = SigningKeys.Create();

        public SigningKeys Stranger { get; } = SigningKeys.Create("CN=Someone else");

        public void Dispose()
        {
            Ours.Dispose();
            Stranger.Dispose();
        }
    }
}
