using System.CommandLine;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node status</c>: lists the nodes that answer a ping, like <c>celery status</c>.</summary>
public static class StatusCommand
{
    public static Command Build()
    {
        var options = new RemoteControlOptions();
        var command = new Command(
            "status",
            $"List the nodes that answer a ping ('->  <node>: OK' each, then 'N nodes online.'); exits 69 ('{RemoteCall.NoReplies}') when none does.");
        options.AddTo(command);
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.RunAsync(parseResult, options, "ping", [], ReplyStyle.Status, cancellationToken));
        return command;
    }
}
