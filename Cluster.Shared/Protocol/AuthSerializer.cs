using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ClusterQueue.Protocol;

/// <summary>
/// Celery's <c>auth</c> serializer (celery/security, SecureSerializer): the serialized body is signed with an RSA
/// key and sent as base64 of <c>signer \x00\x01 signature \x00\x01 content_type \x00\x01 content_encoding \x00\x01 body</c>.
/// </summary>
/// <remarks>
/// The signature is RSA-PSS with MGF1 over the configured digest and the largest salt the key allows
/// (cryptography's <c>PSS.MAX_LENGTH</c>), which System.Security.Cryptography cannot produce or check: its PSS salt
/// is always the hash length. The signer is the certificate id Celery's <c>Certificate.get_id</c> writes: the
/// issuer's attribute values joined by spaces, a space, and the decimal serial number. Only the body is signed, as
/// in Celery; headers and properties are not.
/// </remarks>
public sealed class AuthSerializer
{
    private static readonly byte[] Separator = [0x00, 0x01];

    private static readonly Dictionary<string, Func<IDigest>> Digests = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sha1"] = () => new Sha1Digest(),
        ["sha224"] = () => new Sha224Digest(),
        ["sha256"] = () => new Sha256Digest(),
        ["sha384"] = () => new Sha384Digest(),
        ["sha512"] = () => new Sha512Digest(),
    };

    private readonly RsaKeyParameters key;
    private readonly string signer;
    private readonly Dictionary<string, RsaKeyParameters> store;
    private readonly Func<IDigest> digest;

    private AuthSerializer(RsaKeyParameters key, string signer, Dictionary<string, RsaKeyParameters> store, Func<IDigest> digest)
    {
        this.key = key;
        this.signer = signer;
        this.store = store;
        this.digest = digest;
    }

    /// <summary>The digests Celery's <c>security_digest</c> may name that are supported here.</summary>
    public static IReadOnlyCollection<string> SupportedDigests => Digests.Keys;

    /// <summary>This side's certificate id, as written in the signer field.</summary>
    public string Signer => signer;

    /// <summary>The ids of the certificates whose signatures are accepted.</summary>
    public IReadOnlyCollection<string> KnownSigners => store.Keys;

    /// <summary>
    /// Loads the private key, its certificate and the certificate store. Every problem is an
    /// <see cref="ArgumentException"/> whose <see cref="ArgumentException.ParamName"/> is the setting at fault.
    /// </summary>
    /// <param name="keyFile">PEM file of an unencrypted RSA private key (PKCS#1 or PKCS#8).</param>
    /// <param name="certificateFile">PEM certificate of that key.</param>
    /// <param name="certStore">A directory (every file in it), a file, or a file pattern such as <c>certs/*.pem</c>, as Celery's security_cert_store.</param>
    /// <param name="digest">sha1, sha224, sha256, sha384 or sha512, in any case, as Celery's security_digest.</param>
    /// <param name="settingPrefix">Prefix of the setting names used in errors, e.g. <c>cluster-queue.publish.security.</c>.</param>
    public static AuthSerializer Load(string keyFile, string certificateFile, string certStore, string digest, string settingPrefix = "")
    {
        var keySetting = settingPrefix + "key-file";
        var certificateSetting = settingPrefix + "certificate-file";
        var storeSetting = settingPrefix + "cert-store";
        var digestSetting = settingPrefix + "digest";
        if (!Digests.TryGetValue(digest, out var digestFactory))
        {
            throw new ArgumentException($"{digestSetting}: '{digest}' is not a supported digest ({string.Join(", ", Digests.Keys)})", digestSetting);
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(ReadSetting(keyFile, keySetting));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ArgumentException($"{keySetting}: '{keyFile}' is not an unencrypted RSA private key in PEM: {e.Message}", keySetting, e);
        }

        var privateKey = rsa.ExportParameters(includePrivateParameters: true);
        var (certificateId, certificateKey, _) = ReadCertificate(certificateFile, certificateSetting);
        if (!certificateKey.Modulus.Equals(new BigInteger(1, privateKey.Modulus)) || !certificateKey.Exponent.Equals(new BigInteger(1, privateKey.Exponent)))
        {
            throw new ArgumentException($"{keySetting}: the key in '{keyFile}' does not belong to the certificate '{certificateFile}' ({certificateSetting})", keySetting);
        }

        var signing = new RsaPrivateCrtKeyParameters(
            Unsigned(privateKey.Modulus), Unsigned(privateKey.Exponent), Unsigned(privateKey.D), Unsigned(privateKey.P),
            Unsigned(privateKey.Q), Unsigned(privateKey.DP), Unsigned(privateKey.DQ), Unsigned(privateKey.InverseQ));
        return new AuthSerializer(signing, certificateId, ReadStore(certStore, storeSetting), digestFactory);
    }

    /// <summary>Signs a serialized body and packs it with its content type and encoding, as SecureSerializer.serialize.</summary>
    /// <returns>The base64 text, as ASCII bytes.</returns>
    public byte[] Sign(ReadOnlySpan<byte> body, string contentType, string contentEncoding)
    {
        var pss = Pss(key, forSigning: true);
        pss.BlockUpdate(body.ToArray(), 0, body.Length);
        var signature = pss.GenerateSignature();
        using var packed = new MemoryStream();
        packed.Write(Encoding.UTF8.GetBytes(signer));
        packed.Write(Separator);
        packed.Write(signature);
        packed.Write(Separator);
        packed.Write(Encoding.UTF8.GetBytes(contentType));
        packed.Write(Separator);
        packed.Write(Encoding.UTF8.GetBytes(contentEncoding));
        packed.Write(Separator);
        packed.Write(body);
        return Encoding.ASCII.GetBytes(Convert.ToBase64String(packed.GetBuffer(), 0, (int)packed.Length));
    }

    /// <summary>Unpacks a signed payload and checks its signature against the store, as SecureSerializer.deserialize.</summary>
    /// <exception cref="MessageSignatureException">The payload is not base64, is cut short, names an unknown signer, or its signature does not match.</exception>
    public SignedBody Verify(ReadOnlySpan<byte> payload)
    {
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(Encoding.ASCII.GetString(payload));
        }
        catch (FormatException)
        {
            throw new MessageSignatureException("is not a signed payload: it is not base64");
        }

        var span = raw.AsSpan();
        var signerEnd = span.IndexOf(Separator);
        if (signerEnd < 0) throw new MessageSignatureException("is not a signed payload: it has no signer field");
        var id = Encoding.UTF8.GetString(span[..signerEnd]);
        if (!store.TryGetValue(id, out var publicKey))
        {
            throw new MessageSignatureException($"is signed by an unknown certificate '{id}' (known: {string.Join(", ", store.Keys.Select(k => $"'{k}'"))})");
        }

        // The signature is binary and may hold the separator, so it is cut by the signer's key size, as Celery does.
        var signatureStart = signerEnd + Separator.Length;
        var signatureEnd = signatureStart + (publicKey.Modulus.BitLength + 7) / 8;
        if (span.Length < signatureEnd + Separator.Length || !span.Slice(signatureEnd, Separator.Length).SequenceEqual(Separator))
        {
            throw new MessageSignatureException($"signed by '{id}' is truncated: it ends before its signature and fields");
        }

        var rest = span[(signatureEnd + Separator.Length)..];
        var contentTypeEnd = rest.IndexOf(Separator);
        var encodingEnd = contentTypeEnd < 0 ? -1 : rest[(contentTypeEnd + Separator.Length)..].IndexOf(Separator);
        if (encodingEnd < 0) throw new MessageSignatureException($"signed by '{id}' is truncated: it has no content type, encoding and body");
        var contentType = Encoding.UTF8.GetString(rest[..contentTypeEnd]);
        var fields = rest[(contentTypeEnd + Separator.Length)..];
        var contentEncoding = Encoding.UTF8.GetString(fields[..encodingEnd]);
        var body = fields[(encodingEnd + Separator.Length)..];

        // Celery splits the rest on every separator and takes the third part, so a body ends at the next one.
        if (body.IndexOf(Separator) is var bodyEnd and >= 0) body = body[..bodyEnd];
        var bodyBytes = body.ToArray();
        var pss = Pss(publicKey, forSigning: false);
        pss.BlockUpdate(bodyBytes, 0, bodyBytes.Length);
        bool matches;
        try
        {
            matches = pss.VerifySignature(span.Slice(signatureStart, signatureEnd - signatureStart).ToArray());
        }
        catch (CryptoException)
        {
            // A signature made with another key can be larger than this key's modulus, which the RSA engine refuses.
            matches = false;
        }

        if (!matches) throw new MessageSignatureException($"has a bad signature: it does not match the body for certificate '{id}'");

        return new SignedBody(contentType, contentEncoding, bodyBytes);
    }

    /// <summary>PSS with MGF1 over the same digest and a salt of emLen - hLen - 2 bytes, cryptography's MAX_LENGTH.</summary>
    private PssSigner Pss(RsaKeyParameters rsaKey, bool forSigning)
    {
        var hash = digest();
        var emLength = (rsaKey.Modulus.BitLength + 6) / 8;
        var pss = new PssSigner(new RsaBlindedEngine(), hash, emLength - hash.GetDigestSize() - 2);
        pss.Init(forSigning, rsaKey);
        return pss;
    }

    private static BigInteger Unsigned(byte[]? value) => new(1, value ?? throw new CryptographicException("the RSA key lacks a parameter"));

    private static string ReadSetting(string path, string setting)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{setting} is not set", setting);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{setting}: cannot read '{path}': {e.Message}", setting, e);
        }
    }

    /// <summary>A PEM certificate's id, RSA public key and end of validity; <paramref name="setting"/> names the setting in errors.</summary>
    private static (string Id, RsaKeyParameters Key, DateTime NotAfter) ReadCertificate(string path, string setting)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(ReadSetting(path, setting));
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{setting}: '{path}' is not a PEM certificate: {e.Message}", setting, e);
        }

        using (certificate)
        {
            using var rsa = certificate.GetRSAPublicKey()
                ?? throw new ArgumentException($"{setting}: the certificate '{path}' has no RSA key; the auth serializer signs with RSA", setting);
            var parameters = rsa.ExportParameters(includePrivateParameters: false);
            var publicKey = new RsaKeyParameters(false, Unsigned(parameters.Modulus), Unsigned(parameters.Exponent));
            return (CertificateId(certificate, path, setting), publicKey, certificate.NotAfter.ToUniversalTime());
        }
    }

    /// <summary>Every certificate named by a cert-store setting, by id; an expired, duplicate or missing certificate is an error, as Celery's FSCertStore.</summary>
    private static Dictionary<string, RsaKeyParameters> ReadStore(string pattern, string setting)
    {
        if (string.IsNullOrWhiteSpace(pattern)) throw new ArgumentException($"{setting} is not set", setting);
        var (directory, filePattern) = Directory.Exists(pattern)
            ? (pattern, "*")
            : (Path.GetDirectoryName(pattern) is { Length: > 0 } parent ? parent : ".", Path.GetFileName(pattern));
        var files = Directory.Exists(directory)
            ? Directory.GetFiles(directory, filePattern).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0) throw new ArgumentException($"{setting}: '{pattern}' names no certificate files", setting);
        var certificates = new Dictionary<string, RsaKeyParameters>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var (id, publicKey, notAfter) = ReadCertificate(file, setting);
            if (notAfter <= DateTime.UtcNow) throw new ArgumentException($"{setting}: the certificate '{file}' expired on {notAfter:u}", setting);
            if (!certificates.TryAdd(id, publicKey)) throw new ArgumentException($"{setting}: '{file}' repeats the certificate '{id}'", setting);
        }

        return certificates;
    }

    /// <summary>Celery's <c>Certificate.get_id</c>: the issuer's attribute values in certificate order, space-joined, then the serial number.</summary>
    private static string CertificateId(X509Certificate2 certificate, string path, string setting)
    {
        var values = new List<string>();
        try
        {
            var name = new AsnReader(certificate.IssuerName.RawData, AsnEncodingRules.DER).ReadSequence();
            while (name.HasData)
            {
                var relative = name.ReadSetOf();
                while (relative.HasData)
                {
                    var attribute = relative.ReadSequence();
                    attribute.ReadObjectIdentifier();
                    var tag = attribute.PeekTag();
                    if (tag.TagClass != TagClass.Universal) throw new AsnContentException("an issuer attribute is not a string");
                    values.Add(attribute.ReadCharacterString((UniversalTagNumber)tag.TagValue));
                }
            }
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            throw new ArgumentException($"{setting}: the issuer of '{path}' cannot be read as text: {e.Message}", setting, e);
        }

        var serial = new System.Numerics.BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true);
        return $"{string.Join(' ', values)} {serial}";
    }
}

/// <summary>A verified body with the content type and encoding it was serialized with.</summary>
public sealed record SignedBody(string ContentType, string ContentEncoding, ReadOnlyMemory<byte> Body);

/// <summary>A signed body could not be verified: malformed, cut short, from an unknown signer, or not matching its signature.</summary>
public sealed class MessageSignatureException(string problem) : MessageDecodeException("body", problem);
