using System.CommandLine;
using System.CommandLine.Parsing;
using ClusterQueue.Node.Commands;

namespace ClusterQueue.Node;

/// <summary>Builds the <c>Cluster.Node</c> command tree, in the style of the <c>celery</c> command, and runs it.</summary>
public static class NodeCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ClusterQueue worker node: runs Celery-compatible tasks from a broker, and sends, inspects and purges them.")
        {
            WorkerCommand.Build(),
            CallCommand.Build(),
            ResultCommand.Build(),
            PurgeCommand.Build(),
            DemoCommand.Build(),
            ConfigCommand.Build(),
            InspectCommand.Build(),
            ControlCommand.Build(),
            StatusCommand.Build(),
            BeatCommand.Build(),
        };
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. A parse error prints the errors and the command's usage and exits 64
    /// (System.CommandLine's own handling would exit 1, which scripts cannot tell from a failed task).
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration? configuration = null, CancellationToken cancellationToken = default)
    {
        configuration ??= new InvocationConfiguration();
        var parseResult = Build().Parse(args);
        if (parseResult.Errors.Count == 0)
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }

        foreach (var error in parseResult.Errors)
        {
            await configuration.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        }

        await configuration.Error.WriteLineAsync().ConfigureAwait(false);
        await Build().Parse([.. CommandPath(parseResult.CommandResult), "--help"])
            .InvokeAsync(new InvocationConfiguration { Output = configuration.Error }, cancellationToken)
            .ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    private static IEnumerable<string> CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (SymbolResult? current = command; current is CommandResult { Parent: not null } sub; current = sub.Parent)
        {
            names.Push(sub.Command.Name);
        }

        return names;
    }
}
