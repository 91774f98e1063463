using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ClusterQueue.Client;
using ClusterQueue.Protocol;

namespace ClusterQueue.Tests.Protocol;

/// <summary>A self-signed RSA key and its certificate as PEM files in a temporary folder, and a store folder holding the certificate.</summary>
public sealed class SigningKeys : IDisposable
{
    private SigningKeys(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(StoreDirectory);
    }

    public string Folder { get; }

    public string KeyFile => Path.Combine(Folder, "key.pem");

    public string CertificateFile => Path.Combine(Folder, "cert.pem");

    /// <summary>A folder with this certificate alone, for the cert-store setting.</summary>
    public string StoreDirectory => Path.Combine(Folder, "store");

    /// <summary>Makes a key of <paramref name="keySize"/> bits and a certificate valid until <paramref name="notAfter"/> (30 days by default).</summary>
    public static SigningKeys Create(string subject = "CN=ClusterQueue test, O=ClusterQueue", int keySize = 2048, DateTimeOffset? notAfter = null)
    {
        var keys = new SigningKeys(Directory.CreateTempSubdirectory("cq-signing-").FullName);
        using var rsa = RSA.Create(keySize);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var until = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var certificate = request.CreateSelfSigned(until.AddDays(-60), until);
        File.WriteAllText(keys.KeyFile, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(keys.CertificateFile, certificate.ExportCertificatePem());
        File.Copy(keys.CertificateFile, Path.Combine(keys.StoreDirectory, "cert.pem"));
        return keys;
    }

    /// <summary>The settings that sign with this key and verify against <paramref name="store"/> (this certificate's folder by default).</summary>
    public SecuritySettings Settings(string? store = null, string digest = "sha256") =>
        new() { KeyFile = KeyFile, CertificateFile = CertificateFile, CertStore = store ?? StoreDirectory, Digest = digest };

    /// <summary>Publish settings with the auth serializer, accepting auth alone, on these keys.</summary>
    public PublishSettings Publish(string? store = null) =>
        new() { Serializer = "auth", AcceptContent = ["auth"], Security = Settings(store) };

    /// <summary>The signed payload of an auth message, decoded from base64.</summary>
    public static byte[] Raw(Envelope envelope) => Convert.FromBase64String(Encoding.ASCII.GetString(envelope.Body.Span));

    /// <summary>An auth message whose payload is <paramref name="raw"/>, headers and properties unchanged.</summary>
    public static Envelope WithRaw(Envelope envelope, byte[] raw) => envelope with { Body = Encoding.ASCII.GetBytes(Convert.ToBase64String(raw)) };

    /// <summary>The message with one payload byte flipped; a negative <paramref name="at"/> counts from the end, into the body.</summary>
    public static Envelope Tamper(Envelope envelope, int at)
    {
        var raw = Raw(envelope);
        raw[at < 0 ? raw.Length + at : at] ^= 0x20;
        return WithRaw(envelope, raw);
    }

    public AuthSerializer Load(string? store = null, string digest = "sha256") => Settings(store, digest).Load();

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
