using System.CommandLine;
using ClusterQueue.Node;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>What one in-process run of the node's command line printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error);

/// <summary>Runs the node's command line in this process and gives each test its own memory broker and SQLite result file.</summary>
public sealed class CommandTestKit : IAsyncDisposable
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private readonly List<IAsyncDisposable> opened = [];

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "cq-cli-" + Guid.NewGuid().ToString("N"));

    /// <summary>A memory broker of this test's own, shared by every connection in the process that names it.</summary>
    public string BrokerUrl { get; } = "memory://cli-" + Guid.NewGuid().ToString("N");

    public string ResultsPath => Path.Combine(Directory, "results.db");

    public string ResultBackendUrl => "sqlite:///" + ResultsPath;

    public CommandTestKit() => System.IO.Directory.CreateDirectory(Directory);

    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await NodeCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Runs a command with this kit's broker (except for <c>result</c>, which reads results only) and result backend appended.</summary>
    public Task<CliRun> RunWithBrokerAsync(params string[] args) =>
        RunAsync(args[0] == "result"
            ? [.. args, "--result-backend", ResultBackendUrl]
            : [.. args, "--broker", BrokerUrl, "--result-backend", ResultBackendUrl]);

    public IResultBackend OpenResults()
    {
        var backend = ResultBackends.Open(new ResultSettings { Backend = ResultBackendUrl });
        opened.Add(backend);
        return backend;
    }

    public ITransport OpenBroker()
    {
        var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = BrokerUrl });
        opened.Add(transport);
        return transport;
    }

    /// <summary>Takes the next task message from <paramref name="queue"/> and acks it.</summary>
    public async Task<TaskMessage> TakeAsync(string queue = "celery")
    {
        // The sender declares the queue too; whichever comes first, the message is routed to it.
        var broker = OpenBroker();
        await broker.DeclareQueueAsync(new QueueDeclaration(queue));
        var consumer = await broker.ConsumeAsync(queue, new ConsumeOptions(Prefetch: 1));
        await using (consumer)
        {
            using var timeout = new CancellationTokenSource(Generous);
            var delivery = await consumer.Deliveries.ReadAsync(timeout.Token);
            await consumer.AckAsync(delivery);
            return new TaskMessageCodec().Decode(delivery.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var item in opened)
        {
            await item.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
