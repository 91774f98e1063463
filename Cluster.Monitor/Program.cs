using System.CommandLine;
using ClusterQueue.Monitor.Commands;

namespace ClusterQueue.Monitor;

/// <summary>Entry point of the monitor executable.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => BuildRoot().Parse(args).InvokeAsync();

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("ClusterQueue monitor: folds the cluster's event stream into live state, serves it over HTTP, sends remote control.");
        root.Subcommands.Add(MonitorCommands.Run());
        root.Subcommands.Add(MonitorCommands.Top());
        root.Subcommands.Add(MonitorCommands.Events());
        return root;
    }
}
