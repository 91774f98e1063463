using System.CommandLine;

namespace ClusterQueue.Node;

/// <summary>Entry point of the worker executable: parses the command line and runs the chosen command.</summary>
public static class Program
{
    // The worker handles SIGINT and SIGTERM itself (warm, then cold shutdown), so System.CommandLine must not.
    public static Task<int> Main(string[] args) =>
        NodeCommandLine.InvokeAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = null });
}
