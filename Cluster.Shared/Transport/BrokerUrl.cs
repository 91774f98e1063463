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
}
