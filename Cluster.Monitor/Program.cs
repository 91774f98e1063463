using System.CommandLine;

namespace ClusterQueue.Monitor;

/// <summary>Entry point of the monitor executable.</summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("ClusterQueue monitor: folds the cluster's event stream into live state.");
        return root.Parse(args).InvokeAsync();
    }
}
