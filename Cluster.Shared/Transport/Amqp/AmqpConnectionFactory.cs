using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Builds RabbitMQ.Client's connection factory from a broker URL and the broker settings.</summary>
internal static class AmqpConnectionFactory
{
    public static ConnectionFactory Create(BrokerUrl url, BrokerSettings settings)
    {
        Uri uri;
        try
        {
            uri = new Uri(url.Original.Trim());
        }
        catch (UriFormatException e)
        {
            throw new BrokerUrlException(url.Original, "not a valid URL: " + e.Message);
        }

        if (uri.Segments.Length > 2)
        {
            throw new BrokerUrlException(url.Original, "the path names one vhost; write a '/' inside a vhost name as %2F");
        }

        var factory = new ConnectionFactory
        {
            // This transport reconnects itself so that consumers fault and their supervisors restart them (see AmqpTransport).
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = settings.Heartbeat,
            RequestedConnectionTimeout = settings.ConnectionTimeout,
            ClientProvidedName = "cluster-queue",
        };
        try
        {
            factory.Uri = uri;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new BrokerUrlException(url.Original, e.Message);
        }

        var tls = settings.Amqp.Tls;
        if (url.Scheme == "amqps" || tls.Enabled)
        {
            factory.Ssl = TlsOption(url, uri.Host, tls);
            if (url.Scheme == "amqp" && uri.IsDefaultPort)
            {
                factory.Port = 5671;
            }
        }

        return factory;
    }

    /// <summary>The URL with its password hidden, for messages and logs.</summary>
    public static string Redacted(BrokerUrl url)
    {
        var text = url.Original;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var colon = text.IndexOf(':', url.Scheme.Length + 3);
        return at > 0 && colon > 0 && colon < at ? text[..(colon + 1)] + "****" + text[at..] : text;
    }

    private static SslOption TlsOption(BrokerUrl url, string host, AmqpTlsSettings tls)
    {
        var option = new SslOption { Enabled = true, ServerName = host };
        if (!string.IsNullOrEmpty(tls.CertFile))
        {
            if (string.IsNullOrEmpty(tls.KeyFile))
            {
                throw new BrokerUrlException(url.Original, "cluster-queue.broker.amqp.tls.cert-file is set but tls.key-file is empty");
            }

            option.Certs = new X509CertificateCollection { LoadClientCertificate(url, tls) };
        }

        if (!string.IsNullOrEmpty(tls.CaFile))
        {
            var authority = LoadPem(url, "ca-file", tls.CaFile, () => X509CertificateLoader.LoadCertificateFromFile(tls.CaFile));
            option.CertificateValidationCallback = (_, certificate, _, errors) => IsSignedBy(certificate, errors, authority);
        }

        return option;
    }

    private static X509Certificate2 LoadClientCertificate(BrokerUrl url, AmqpTlsSettings tls) =>
        LoadPem(url, "cert-file/key-file", tls.CertFile, () =>
        {
            using var pem = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
            // SslStream on Linux needs the key in an exportable container, not an ephemeral one.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        });

    private static X509Certificate2 LoadPem(BrokerUrl url, string setting, string path, Func<X509Certificate2> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new BrokerUrlException(url.Original, $"cluster-queue.broker.amqp.tls.{setting} '{path}' cannot be read: {e.Message}");
        }
    }

    // Only chain errors are forgiven, and only when the chain ends at the configured authority; a name mismatch never is.
    private static bool IsSignedBy(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 authority)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        return chain.Build(server);
    }
}
