using ClusterQueue.Config;
using ClusterQueue.Results;
using Npgsql;

namespace ClusterQueue.Tests.Results;

/// <summary>postgresql:// URLs as libpq, SQLAlchemy and so Celery write them, turned into Npgsql connection strings.</summary>
public sealed class PostgresUrlTests
{
    [Fact]
    public void Parse_FullUrl_SetsEveryPartDecoded()
    {
        var builder = PostgresUrl.Parse("postgresql://celery%40corp:p%40ss%3Aw%2Frd@db.example:6543/results%2Dprod?sslmode=verify-full&application_name=cq%20worker");

        Assert.Equal("celery@corp", builder.Username);
        Assert.Equal("p@ss:w/rd", builder.Password);
        Assert.Equal("db.example", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("results-prod", builder.Database);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("cq worker", builder.ApplicationName);
    }

    [Theory]
    [InlineData("postgresql://u:p@h/db")]
    [InlineData("postgres://u:p@h/db")]
    [InlineData("db+postgresql://u:p@h/db")]
    [InlineData("db+postgresql+psycopg2://u:p@h/db")]
    [InlineData("POSTGRESQL://u:p@h/db")]
    public void Parse_EverySpelling_GivesTheSameConnection(string url)
    {
        var builder = PostgresUrl.Parse(url);

        Assert.Equal(("u", "p", "h", PostgresUrl.DefaultPort, "db"), (builder.Username, builder.Password, builder.Host, builder.Port, builder.Database));
    }

    [Fact]
    public void Parse_WithoutCredentials_LeavesThemToNpgsql()
    {
        var builder = PostgresUrl.Parse("postgresql://localhost/db");

        Assert.Null(builder.Username);
        Assert.Null(builder.Password);
    }

    [Fact]
    public void Parse_UnixSocketAndIpv6AndHostList_AreHosts()
    {
        Assert.Equal("/var/run/postgresql", PostgresUrl.Parse("postgresql://u@/db?host=%2Fvar%2Frun%2Fpostgresql").Host);
        var v6 = PostgresUrl.Parse("postgresql://u@[::1]:5433/db");
        Assert.Equal(("::1", 5433), (v6.Host, v6.Port));
        Assert.Equal("a:5432,b:5433", PostgresUrl.Parse("postgresql://u@a,b:5433/db?target_session_attrs=primary").Host);
    }

    [Fact]
    public void Parse_NpgsqlKeywords_PassThrough()
    {
        var builder = PostgresUrl.Parse("postgresql://u@h/db?MaxPoolSize=7&Search%20Path=cq&connect_timeout=3&options=-c%20statement_timeout%3D5000");

        Assert.Equal(7, builder.MaxPoolSize);
        Assert.Equal("cq", builder.SearchPath);
        Assert.Equal(3, builder.Timeout);
        Assert.Equal("-c statement_timeout=5000", builder.Options);
    }

    [Theory]
    [InlineData("postgresql://u:p@/db", "needs a host")]
    [InlineData("postgresql://u:p@h", "needs a database name")]
    [InlineData("postgresql://u:p@h/", "needs a database name")]
    [InlineData("postgresql://u:p@h/db/extra", "contains a '/'")]
    [InlineData("postgresql://u:p@h:port/db", "the port 'port' is not a number")]
    [InlineData("postgresql://u:p@h:70000/db", "the port '70000' is not a number from 1 to 65535")]
    [InlineData("postgresql://u:p@h:/db", "the port '' is not a number")]
    [InlineData("postgresql://u:p@[::1/db", "lacks its closing ']'")]
    [InlineData("postgresql://u:p@a,,b/db", "has an empty host")]
    [InlineData("postgresql://u:p@h/db?sslmode=sometimes", "sslmode 'sometimes' is not one of")]
    [InlineData("postgresql://u:p@h/db?colour=blue", "unknown parameter 'colour'")]
    [InlineData("postgresql://u:p@h/db?MaxPoolSize=many", "parameter 'MaxPoolSize' has a bad value 'many'")]
    [InlineData("postgresql://u:p%zz@h/db", "the password has a '%'")]
    public void Open_BadPostgresUrl_ThrowsNamingTheProblem(string url, string problem)
    {
        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open(url, new ResultSettings()));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("postgresql://", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://celery:s3cret@h:5432/db?sslmode=bogus")]
    [InlineData("postgresql://celery:s3cret@a,b/db?sslmode=bogus")]
    [InlineData("db+postgresql://celery:s3cret@h/db/x")]
    public void Open_BadUrlWithAPassword_MasksItInTheError(string url)
    {
        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open(url, new ResultSettings()));

        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Url, StringComparison.Ordinal);
        Assert.Contains("celery:" + ConfigurationPrinter.Mask + "@", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://celery:s3cret@h:5432/db", "postgresql://celery:****@h:5432/db")]
    [InlineData("postgresql://celery:s3cret@a:1,b:2/db?sslmode=require", "postgresql://celery:****@a:1,b:2/db?sslmode=require")]
    [InlineData("postgresql://celery@h/db", "postgresql://celery@h/db")]
    [InlineData("postgresql://celery@a,b/db", "postgresql://celery@a,b/db")]
    [InlineData("postgresql://celery:s3c/ret@h/db", "postgresql://celery:****@h/db")]
    public void MaskValue_PostgresUrl_HidesOnlyThePassword(string url, string shown)
    {
        Assert.Equal(shown, ConfigurationPrinter.MaskValue("backend", url));
    }
}
