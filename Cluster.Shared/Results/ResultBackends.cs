using ClusterQueue.Results.Rpc;
using ClusterQueue.Transport;

namespace ClusterQueue.Results;

/// <summary>Opens a result backend from its URL (<see cref="ResultSettings.Backend"/>).</summary>
public static class ResultBackends
{
    public static IReadOnlyList<string> SupportedSchemes { get; } = ["memory", "sqlite", "rpc"];

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>.</exception>
    public static IResultBackend Open(ResultSettings settings, TimeProvider? time = null, ITransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Open(settings.Backend, settings, time, transport);
    }

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>.</exception>
    /// <remarks>The optional transport is the broker connection that <c>rpc://</c> sends and receives results on.</remarks>
    public static IResultBackend Open(string url, ResultSettings settings, TimeProvider? time = null, ITransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new UnsupportedResultBackendException(url, "it has no scheme (expected e.g. 'sqlite:///results.db')");
        }

        var scheme = url[..separator].ToLowerInvariant();
        var rest = url[(separator + 3)..];
        return scheme switch
        {
            "memory" => new MemoryResultBackend(settings.Expires, time),
            "sqlite" => new SqliteResultBackend(SqlitePath(url, rest), settings, time),
            "rpc" when transport is Transport.Sqs.SqsTransport => throw new UnsupportedResultBackendException(
                url,
                "rpc:// cannot be used with an SQS broker: every client would get a reply queue of its own on SQS that nobody ever deletes "
                + "(Celery warns against it too); use a result store such as sqlite:///results.db"),
            "rpc" => new RpcResultBackend(
                transport ?? throw new UnsupportedResultBackendException(url, "rpc:// sends results over the broker, so it needs the broker's transport"),
                settings,
                time: time),
            _ => throw new UnsupportedResultBackendException(url, $"unknown scheme '{scheme}'"),
        };
    }

    // SQLAlchemy's convention, which Celery's database backend uses: sqlite:///relative.db and sqlite:////absolute.db.
    private static string SqlitePath(string url, string rest)
    {
        if (!rest.StartsWith('/') || rest.Length < 2)
        {
            throw new UnsupportedResultBackendException(url, "a SQLite URL needs a file path: 'sqlite:///relative.db' or 'sqlite:////absolute.db'");
        }

        return rest[1..];
    }
}

/// <summary>A result backend URL that cannot be opened; names the URL and what is wrong with it.</summary>
public sealed class UnsupportedResultBackendException(string url, string problem)
    : ArgumentException($"Cannot open result backend '{url}': {problem}. Supported schemes: {string.Join(", ", ResultBackends.SupportedSchemes.Select(s => s + "://"))}.")
{
    public string Url { get; } = url;
}
