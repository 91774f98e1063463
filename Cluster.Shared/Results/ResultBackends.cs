namespace ClusterQueue.Results;

/// <summary>Opens a result backend from its URL (<see cref="ResultSettings.Backend"/>).</summary>
public static class ResultBackends
{
    public static IReadOnlyList<string> SupportedSchemes { get; } = ["memory", "sqlite"];

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>.</exception>
    public static IResultBackend Open(ResultSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Open(settings.Backend, settings, time);
    }

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>.</exception>
    public static IResultBackend Open(string url, ResultSettings settings, TimeProvider? time = null)
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
