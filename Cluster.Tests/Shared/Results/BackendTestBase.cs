using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

/// <summary>Creates the backend under test on a manual clock and disposes everything a test opened.</summary>
public abstract class BackendTestBase : IAsyncLifetime
{
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private readonly List<IResultBackend> opened = [];

    protected ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 21, 9, 35, 45, TimeSpan.Zero).AddTicks(5_866_880));

    protected static ResultSettings Settings { get; } = new() { Expires = TimeSpan.FromDays(1), PollingInterval = TimeSpan.FromMilliseconds(20) };

    protected IResultBackend Backend { get; private set; } = null!;

    protected abstract IResultBackend Create(ResultSettings settings, TimeProvider time);

    protected IResultBackend Open(ResultSettings? settings = null) => Track(Create(settings ?? Settings, Clock));

    /// <summary>Disposes <paramref name="backend"/> at the end of the test, with those that <see cref="Open"/> made.</summary>
    protected IResultBackend Track(IResultBackend backend)
    {
        lock (opened)
        {
            opened.Add(backend);
        }

        return backend;
    }

    public virtual Task InitializeAsync()
    {
        Backend = Open();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var backend in opened)
        {
            await backend.DisposeAsync();
        }
    }
}

/// <summary>Each SQLite test gets its own database file in its own directory.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cq-results-").FullName;
        FilePath = Path.Combine(Directory, "results.db");
    }

    public string Directory { get; }

    public string FilePath { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still mapped by SQLite's WAL on some platforms; the OS temp cleaner takes it later.
        }
    }
}
