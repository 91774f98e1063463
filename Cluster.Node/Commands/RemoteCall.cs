using System.CommandLine;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Commands;

/// <summary>How a remote-control command shows its replies, after the Celery command of the same name.</summary>
public enum ReplyStyle
{
    /// <summary><c>inspect</c>: each reply with its body, then the node count; JSON is one object keyed by node.</summary>
    Inspect,

    /// <summary><c>control</c>: each reply with its body; JSON is a list of one-node objects, as Celery's broadcast returns.</summary>
    Control,

    /// <summary><c>status</c>: one line per node, then the node count; JSON as for inspect.</summary>
    Status,
}

/// <summary>Sends one remote-control request, gathers the replies and prints them; no reply in time is exit 69, as in Celery.</summary>
public static class RemoteCall
{
    /// <summary>Celery's own words for a call nobody answered.</summary>
    public const string NoReplies = "No nodes replied within time constraint";

    /// <summary>Runs <paramref name="method"/> and returns the exit code: 0, 1 when a node replied with an error, 69 when none replied.</summary>
    public static async Task<int> RunAsync(
        ParseResult parseResult,
        RemoteControlOptions options,
        string method,
        JsonObject arguments,
        ReplyStyle style,
        CancellationToken cancellationToken)
    {
        await using var session = await options.OpenAsync(parseResult, cancellationToken).ConfigureAwait(false);
        return await RunWithAsync(parseResult, options, session, method, arguments, style, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> RunWithAsync(
        ParseResult parseResult,
        RemoteControlOptions options,
        RemoteControlSession session,
        string method,
        JsonObject arguments,
        ReplyStyle style,
        CancellationToken cancellationToken)
    {
        var replies = await session.Client.BroadcastAsync(method, arguments, options.Target(parseResult), reply: true, session.Timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (replies.Count == 0)
        {
            throw new CommandException(ExitCodes.Unavailable, NoReplies);
        }

        var output = parseResult.InvocationConfiguration.Output;
        var failed = replies.Any(reply => RemoteReplyPrinter.IsError(reply.Value));
        if (parseResult.GetValue(options.Json))
        {
            await output.WriteLineAsync(ToJson(replies, style).ToJsonString(RemoteReplyPrinter.Compact)).ConfigureAwait(false);
            return failed ? ExitCodes.Failure : ExitCodes.Ok;
        }

        foreach (var reply in replies)
        {
            await RemoteReplyPrinter.WriteAsync(reply, withBody: style != ReplyStyle.Status, output).ConfigureAwait(false);
        }

        if (style != ReplyStyle.Control)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteLineAsync(RemoteReplyPrinter.NodesOnline(replies.Select(r => r.Node).Distinct(StringComparer.Ordinal).Count())).ConfigureAwait(false);
        }

        return failed ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>
    /// <c>status</c>. On the cluster carrier, the members as Akka.Cluster sees them (Up, Unreachable, Leaving...), told by
    /// the first node to answer; on the broker's pidbox, the nodes that answer a ping, as <c>celery status</c> lists them.
    /// </summary>
    public static async Task<int> StatusAsync(ParseResult parseResult, RemoteControlOptions options, CancellationToken cancellationToken)
    {
        IReadOnlyList<ClusterQueue.Fabric.ClusterPlane.ClusterMember> members;
        await using (var session = await options.OpenAsync(parseResult, cancellationToken).ConfigureAwait(false))
        {
            if (session.Client.Carrier != "cluster")
            {
                return await RunWithAsync(parseResult, options, session, "ping", [], ReplyStyle.Status, cancellationToken).ConfigureAwait(false);
            }

            var replies = await session.Client.BroadcastAsync("members", [], options.Target(parseResult), reply: true, session.Timeout, limit: 1, cancellationToken).ConfigureAwait(false);
            if (replies.Count == 0)
            {
                throw new CommandException(ExitCodes.Unavailable, NoReplies);
            }

            members = ClusterQueue.Fabric.ClusterPlane.ClusterMembers.FromJson(replies[0].Value);
        }

        var output = parseResult.InvocationConfiguration.Output;
        if (parseResult.GetValue(options.Json))
        {
            var json = new JsonObject();
            foreach (var m in members)
            {
                json[m.Node] = new JsonObject { ["status"] = m.Status, ["address"] = m.Address, ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode?)r)]) };
            }

            await output.WriteLineAsync(json.ToJsonString(RemoteReplyPrinter.Compact)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        foreach (var m in members)
        {
            await output.WriteLineAsync($"->  {m.Node}: {m.Status} ({m.Address}{(m.Roles.Count > 0 ? ", " + string.Join(", ", m.Roles) : "")})").ConfigureAwait(false);
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(RemoteReplyPrinter.NodesOnline(members.Count(m => m.IsUp))).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>Publishes a command nodes never answer (<c>shutdown</c>) and reports it as sent.</summary>
    public static async Task<int> SendWithoutReplyAsync(ParseResult parseResult, RemoteControlOptions options, string method, CancellationToken cancellationToken)
    {
        var target = options.Target(parseResult);
        await using (var session = await options.OpenAsync(parseResult, cancellationToken).ConfigureAwait(false))
        {
            await session.Client.BroadcastAsync(method, [], target, reply: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var to = target.Destination is { } names ? string.Join(", ", names) : "every node";
        var output = parseResult.InvocationConfiguration.Output;
        if (parseResult.GetValue(options.Json))
        {
            await output.WriteLineAsync(new JsonObject { ["sent"] = method, ["destination"] = target.Destination is { } d ? new JsonArray([.. d.Select(n => (JsonNode?)n)]) : null }.ToJsonString()).ConfigureAwait(false);
        }
        else
        {
            await output.WriteLineAsync($"->  {method} sent to {to} (nodes do not reply to {method})").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private static JsonNode ToJson(IReadOnlyList<ControlReply> replies, ReplyStyle style)
    {
        if (style == ReplyStyle.Control)
        {
            return new JsonArray([.. replies.Select(reply => (JsonNode?)new JsonObject { [reply.Node] = reply.Value?.DeepClone() })]);
        }

        // Celery flattens inspect replies into one object; a node that answered twice keeps its last answer.
        var byNode = new JsonObject();
        foreach (var reply in replies)
        {
            byNode[reply.Node] = reply.Value?.DeepClone();
        }

        return byNode;
    }
}
