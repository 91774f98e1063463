using System.CommandLine;

namespace ClusterQueue.Node;

/// <summary>Entry point of the worker executable: parses the command line and runs the chosen command.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => NodeCommandLine.Build().Parse(args).InvokeAsync();
}
