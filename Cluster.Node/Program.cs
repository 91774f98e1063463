using System.CommandLine;

namespace ClusterQueue.Node;

/// <summary>Entry point of the worker executable: parses the command line and runs the chosen command.</summary>
public static class Program
{
    // The worker handles SIGINT and SIGTERM itself (warm, then cold shutdown), so System.CommandLine must not.
    // A prefork child is started by its worker with a fixed argument list; it skips the command tree, which it does
    // not need, and starts faster without it.
    public static Task<int> Main(string[] args) => args is [Pool.PoolChild.Command, ..]
        ? Pool.PoolChild.RunAsync(args[1..])
        : NodeCommandLine.InvokeAsync(args, new InvocationConfiguration { ProcessTerminationTimeout = null });
}
