using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

public sealed class ResultBackendsTests : IDisposable
{
    private readonly TempDatabase database = new();

    public void Dispose() => database.Dispose();

    [Fact]
    public void Settings_Defaults_AreCelerysAndTheEmbeddedStore()
    {
        var settings = new ResultSettings();

        Assert.Equal("sqlite:///cluster-queue-results.db", settings.Backend);
        Assert.Equal(TimeSpan.FromDays(1), settings.Expires);
        Assert.Equal(TimeSpan.FromHours(1), settings.SweepInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.PollingInterval);
    }

    [Fact]
    public async Task Open_Memory_GivesAMemoryBackend()
    {
        await using var backend = ResultBackends.Open("memory://", new ResultSettings());

        Assert.IsType<MemoryResultBackend>(backend);
    }

    [Fact]
    public async Task Open_SqliteAbsolutePath_UsesThatFile()
    {
        await using var backend = ResultBackends.Open(new ResultSettings { Backend = "sqlite:///" + database.FilePath });

        Assert.Equal(database.FilePath, Assert.IsType<SqliteResultBackend>(backend).Path);
        Assert.True(File.Exists(database.FilePath));
    }

    [Fact]
    public async Task Open_SqliteRelativePath_IsRelativeToTheWorkingDirectory()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, database.FilePath);

        await using var backend = ResultBackends.Open("sqlite:///" + relative, new ResultSettings());

        Assert.Equal(relative, ((SqliteResultBackend)backend).Path);
        Assert.True(File.Exists(database.FilePath));
    }

    [Fact]
    public async Task Open_CelerysDbSqliteSpelling_IsSqlite()
    {
        await using var backend = ResultBackends.Open("db+sqlite:///" + database.FilePath, new ResultSettings());

        Assert.Equal(database.FilePath, Assert.IsType<SqliteResultBackend>(backend).Path);
    }

    [Theory]
    [InlineData("redis://localhost:6379/0", "unknown scheme 'redis'")]
    [InlineData("results.db", "no scheme")]
    [InlineData("sqlite://", "needs a file path")]
    [InlineData("sqlite:///", "needs a file path")]
    public void Open_BadUrl_ThrowsNamingTheUrlAndSupportedSchemes(string url, string problem)
    {
        var error = Assert.Throws<UnsupportedResultBackendException>(() => ResultBackends.Open(url, new ResultSettings()));

        Assert.Equal(url, error.Url);
        Assert.Contains($"'{url}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("memory://, sqlite://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ZeroPollingInterval_ThrowsNamingTheSetting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ResultBackends.Open(new ResultSettings { Backend = "memory://", PollingInterval = TimeSpan.Zero }));

        Assert.Equal("cluster-queue.result.polling-interval", error.ParamName);
    }
}
