using ClusterQueue.Client;
using ClusterQueue.Results;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>A temporary folder with one SQLite broker and one SQLite result file shared by the test and its worker processes.</summary>
public sealed class ProcessTestDirectory : IAsyncDisposable
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private ClusterQueueApp? _client;

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cq-proc-" + Guid.NewGuid().ToString("N"));

    public ProcessTestDirectory() => Directory.CreateDirectory(Path);

    public string BrokerUrl => "sqlite:///" + System.IO.Path.Combine(Path, "broker.db");

    public string ResultBackendUrl => "sqlite:///" + System.IO.Path.Combine(Path, "results.db");

    /// <summary>The worker arguments naming this folder's broker and result store.</summary>
    public string[] Connection => ["--broker", BrokerUrl, "--result-backend", ResultBackendUrl];

    /// <summary>A client on the same broker and result store, for the test to send tasks and read results.</summary>
    public ClusterQueueApp Client => _client ??= ClusterQueueApp.Open(
        new BrokerSettings { Url = BrokerUrl },
        new ResultSettings { Backend = ResultBackendUrl });

    public string WriteConfig(string text)
    {
        var file = System.IO.Path.Combine(Path, "node.conf");
        File.WriteAllText(file, text);
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}
