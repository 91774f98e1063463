using Npgsql;

namespace ClusterQueue.Tests.Results;

/// <summary>
/// A schema of its own on test.sh's private PostgreSQL for one test, so that tests running side by side never
/// share a celery_taskmeta table; dropped with everything in it at the end.
/// </summary>
/// <remarks>A missing server fails the test, since a skipped test proves nothing.</remarks>
public sealed class PostgresTestSchema : IDisposable
{
    public PostgresTestSchema()
    {
        AdminConnectionString = Required("CQ_TEST_POSTGRES");
        BaseUrl = Required("CQ_TEST_POSTGRES_URL");
        Name = $"cq_results_{Guid.NewGuid():N}";
        Execute($"CREATE SCHEMA {Name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = Name }.ConnectionString;
    }

    /// <summary>The schema's name, which is also the search_path of <see cref="ConnectionString"/> and <see cref="Url"/>.</summary>
    public string Name { get; }

    /// <summary>An Npgsql connection string whose tables land in this schema.</summary>
    public string ConnectionString { get; }

    /// <summary>test.sh's <c>postgresql://</c> URL, without a schema.</summary>
    public string BaseUrl { get; }

    /// <summary>test.sh's connection string, without a schema.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The URL of this schema, with <paramref name="scheme"/> and any extra query parameters.</summary>
    public string Url(string scheme = "postgresql", string extra = "") =>
        scheme + BaseUrl[BaseUrl.IndexOf("://", StringComparison.Ordinal)..] + "?options=" + Uri.EscapeDataString($"-c search_path={Name}") + extra;

    public object? Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = Connect();
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }

    public void Execute(string sql, params (string Name, object Value)[] parameters) => Scalar(sql, parameters);

    public void Dispose() => Execute($"DROP SCHEMA IF EXISTS {Name} CASCADE");

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests through ./test.sh, which starts a private PostgreSQL and sets it");

    // Unpooled, so the test's own statements never hold a connection that the backend's pool or a terminate would meet.
    private NpgsqlConnection Connect()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = Name, Pooling = false }.ConnectionString);
        connection.Open();
        return connection;
    }
}
