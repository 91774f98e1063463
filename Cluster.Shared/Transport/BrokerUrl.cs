namespace ClusterQueue.Transport;

/// <summary>A broker URL split into its scheme and the rest, with the checks every transport shares.</summary>
public sealed record BrokerUrl(string Original, string Scheme, string Rest)
{
    public static BrokerUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var trimmed = url.Trim();
        if (trimmed.Length == 0)
        {
            throw new BrokerUrlException(url, "the URL is empty");
        }

        var separator = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new BrokerUrlException(url, "expected scheme://…, for example sqlite:///cluster-queue.db or memory://");
        }

        var scheme = trimmed[..separator];
        if (!scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') || !char.IsAsciiLetter(scheme[0]))
        {
            throw new BrokerUrlException(url, $"'{scheme}' is not a valid URL scheme");
        }

        return new BrokerUrl(url, scheme.ToLowerInvariant(), trimmed[(separator + 3)..]);
    }

    /// <summary>The file of a <c>sqlite:///path</c> URL: three slashes then the path, so <c>sqlite:////abs.db</c> is absolute.</summary>
    public string SqlitePath()
    {
        if (!Rest.StartsWith('/'))
        {
            throw new BrokerUrlException(Original, "a sqlite URL takes no host: write sqlite:///relative.db or sqlite:////absolute/path.db");
        }

        var path = Uri.UnescapeDataString(Rest[1..]);
        if (path.Contains('?', StringComparison.Ordinal))
        {
            throw new BrokerUrlException(Original, "a sqlite URL takes no query options");
        }

        return path.Length == 0 ? "cluster-queue.db" : path;
    }

    /// <summary>The broker name of a <c>memory://name</c> URL; empty for <c>memory://</c>.</summary>
    public string MemoryName()
    {
        var name = Rest.TrimEnd('/');
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new BrokerUrlException(Original, $"'{name}' is not a memory broker name: use letters, digits, '-', '_' and '.'");
        }

        return name;
    }

    /// <summary>
    /// The parts of an SQS URL as kombu reads them: <c>sqs://KEY:SECRET@</c> with URL-decoded credentials (empty for
    /// <c>sqs://</c>, which leaves them to the settings and the SDK's default chain), and an optional
    /// <c>host:port</c> that kombu takes as an <c>http://</c> endpoint (empty when there is none).
    /// </summary>
    public (string AccessKey, string Secret, string Endpoint) SqsParts()
    {
        var at = Rest.LastIndexOf('@');
        var host = (at < 0 ? Rest : Rest[(at + 1)..]).TrimEnd('/');
        if (host.Contains('/', StringComparison.Ordinal) || host.Contains('?', StringComparison.Ordinal)
            || (host.Length > 0 && Uri.CheckHostName(host.Split(':')[0]) == UriHostNameType.Unknown))
        {
            throw new BrokerUrlException(
                Original, "an sqs URL is sqs://, sqs://KEY:SECRET@ or sqs://KEY:SECRET@host:port (a local server); it takes no path or query");
        }

        var endpoint = host.Length > 0 ? "http://" + host : "";
        if (at < 0)
        {
            return ("", "", endpoint);
        }

        var user = Rest[..at];
        var colon = user.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new BrokerUrlException(Original, "credentials in an sqs URL are written KEY:SECRET@ (URL-encode a secret that holds / or +)");
        }

        return (Uri.UnescapeDataString(user[..colon]), Uri.UnescapeDataString(user[(colon + 1)..]), endpoint);
    }
}
