using ClusterQueue.Config;
using ClusterQueue.Results.Rpc;
using ClusterQueue.Transport;

namespace ClusterQueue.Results;

/// <summary>Opens a result backend from its URL (<see cref="ResultSettings.Backend"/>).</summary>
public static class ResultBackends
{
    public static IReadOnlyList<string> SupportedSchemes { get; } = ["memory", "sqlite", "postgresql", "rpc", "file"];

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>.</exception>
    public static IResultBackend Open(ResultSettings settings, TimeProvider? time = null, ITransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Open(settings.Backend, settings, time, transport);
    }

    /// <exception cref="UnsupportedResultBackendException">The URL's scheme is not one of <see cref="SupportedSchemes"/>, or the rest of the URL does not fit it.</exception>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL server cannot be reached or refuses the login.</exception>
    /// <remarks>
    /// PostgreSQL is spelled as libpq spells it (<c>postgresql://</c>, <c>postgres://</c>) or as Celery's database
    /// backend does (<c>db+postgresql://</c>); <c>db+sqlite:///</c> is Celery's spelling of <c>sqlite:///</c>.
    /// <c>file:///abs/dir</c> and <c>file://localhost/abs/dir</c> are Celery's file backend, in a directory that must exist.
    /// The optional transport is the broker connection that <c>rpc://</c> sends and receives results on.
    /// </remarks>
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
        if (PostgresUrl.IsPostgresScheme(scheme))
        {
            return new PostgresResultBackend(PostgresUrl.Parse(url), settings, time);
        }

        return scheme switch
        {
            "memory" => new MemoryResultBackend(settings.Expires, time),
            "sqlite" or "db+sqlite" => new SqliteResultBackend(SqlitePath(url, rest), settings, time),
            "file" => OpenFile(url, settings, time),
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

    // A directory that is missing or not writable is a mistake in the setting, reported as the other bad URLs are.
    private static FileResultBackend OpenFile(string url, ResultSettings settings, TimeProvider? time)
    {
        try
        {
            return new FileResultBackend(FilePath(url), settings, time);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new UnsupportedResultBackendException(url, e.Message.TrimEnd('.'));
        }
    }

    /// <summary>
    /// The directory of a <c>file://</c> URL as Celery's FilesystemBackend finds it: what follows <c>file://localhost</c>,
    /// else what follows <c>file://</c>. So <c>file:///abs/dir</c> is <c>/abs/dir</c>, and <c>file://dir</c> is Celery's
    /// relative <c>dir</c>, not a host.
    /// </summary>
    internal static string FilePath(string url)
    {
        const string Localhost = "file://localhost/";
        var path = url.StartsWith(Localhost, StringComparison.OrdinalIgnoreCase)
            ? url[(Localhost.Length - 1)..]
            : url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        if (path.Length == 0)
        {
            throw new UnsupportedResultBackendException(url, "a file:// URL needs a directory: 'file:///abs/dir' or 'file://localhost/abs/dir'");
        }

        return path;
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

/// <summary>A result backend URL that cannot be opened; names the URL (its password masked) and what is wrong with it.</summary>
public sealed class UnsupportedResultBackendException(string url, string problem)
    : ArgumentException($"Cannot open result backend '{Shown(url)}': {problem}. Supported schemes: {string.Join(", ", ResultBackends.SupportedSchemes.Select(s => s + "://"))}.")
{
    /// <summary>The URL as it may be shown: a password in it is masked, since this ends up in logs and exit messages.</summary>
    public string Url { get; } = Shown(url);

    private static string Shown(string url) => ConfigurationPrinter.MaskValue("backend", url) ?? url;
}
