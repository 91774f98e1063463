using System.CommandLine;

namespace ClusterQueue.Node;

/// <summary>Builds the <c>Cluster.Node</c> command tree, in the style of the <c>celery</c> command.</summary>
public static class NodeCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ClusterQueue worker node: runs Celery-compatible tasks from a broker.");
        var demo = new Command("demo", "Start two worker nodes on a temporary SQLite broker and run a mixed workload.");
        demo.SetAction(_ =>
        {
            Console.WriteLine("The demo arrives with the worker node; this build has the foundation only.");
            return ExitCodes.NotAvailable;
        });
        root.Subcommands.Add(demo);
        root.Subcommands.Add(ConfigCommand.Build());
        return root;
    }
}
