using System.CommandLine;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node status</c>: the members of the cluster and their status, or on the broker the nodes that answer a ping, like <c>celery status</c>.</summary>
public static class StatusCommand
{
    public static Command Build()
    {
        var options = new RemoteControlOptions();
        var command = new Command(
            "status",
            "List the nodes: over the cluster, every member as Akka.Cluster sees it ('->  <node>: Up|Unreachable|Leaving|...'); over the broker's pidbox, "
            + $"those that answer a ping ('->  <node>: OK'). Then 'N nodes online.'; exits 69 ('{RemoteCall.NoReplies}') when no node answers.");
        options.AddTo(command);
        command.SetGuardedAction((parseResult, cancellationToken) =>
            RemoteCall.StatusAsync(parseResult, options, cancellationToken));
        return command;
    }
}
