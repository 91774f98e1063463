using ClusterQueue.Protocol;

namespace ClusterQueue.Client;

/// <summary>The <c>cluster-queue.publish.security</c> settings of the auth serializer (Celery's security_* settings).</summary>
public sealed record SecuritySettings
{
    /// <summary>Prefix of these settings' names in errors.</summary>
    public const string Path = "cluster-queue.publish.security.";

    /// <summary>PEM file of the RSA private key messages are signed with (security_key).</summary>
    public string KeyFile { get; init; } = "";

    /// <summary>PEM file of the certificate of that key; its issuer and serial name the signer (security_certificate).</summary>
    public string CertificateFile { get; init; } = "";

    /// <summary>Certificates whose signatures are accepted: a directory, a file, or a file pattern such as <c>certs/*.pem</c> (security_cert_store).</summary>
    public string CertStore { get; init; } = "";

    /// <summary>Digest of the RSA-PSS signature: sha1, sha224, sha256, sha384 or sha512 (security_digest).</summary>
    public string Digest { get; init; } = "sha256";

    /// <summary>Whether any file is named, which asks for signing.</summary>
    public bool IsSet => !string.IsNullOrWhiteSpace(KeyFile) || !string.IsNullOrWhiteSpace(CertificateFile) || !string.IsNullOrWhiteSpace(CertStore);

    /// <summary>Reads the key, certificate and store; a problem is an <see cref="ArgumentException"/> naming the setting.</summary>
    public AuthSerializer Load() => AuthSerializer.Load(KeyFile, CertificateFile, CertStore, Digest, Path);
}
