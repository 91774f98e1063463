using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Revocation;

/// <summary>The <c>hello</c> request arguments: <c>{"from_node": name, "revoked": {id: [ts, id]}}</c>.</summary>
public sealed record HelloArguments(string FromNode, JsonObject Revoked)
{
    public JsonObject ToJson() => new() { ["from_node"] = FromNode, ["revoked"] = Revoked.DeepClone() };

    public static HelloArguments Parse(JsonObject args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var from = args["from_node"] is JsonValue v && v.TryGetValue<string>(out var name)
            ? name
            : throw new ControlArgumentException("from_node", "is required and must be a node name");
        return args["revoked"] switch
        {
            null => new HelloArguments(from, []),
            JsonObject o => new HelloArguments(from, (JsonObject)o.DeepClone()),
            _ => throw new ControlArgumentException("revoked", "must be an object of revoked ids"),
        };
    }
}

/// <summary>The <c>hello</c> reply: <c>{"revoked": {...}, "clock": N}</c> with the app clock forwarded.</summary>
public sealed record HelloReply(JsonObject Revoked, long Clock)
{
    public JsonObject ToJson() => new() { ["revoked"] = Revoked.DeepClone(), ["clock"] = Clock };

    public static HelloReply Parse(JsonNode? value)
    {
        if (value is not JsonObject reply) throw new FabricMessageException("mingle hello reply must be an object");
        var revoked = reply["revoked"] switch
        {
            null => [],
            JsonObject o => (JsonObject)o.DeepClone(),
            _ => throw new FabricMessageException("mingle hello reply field 'revoked' must be an object"),
        };
        var clock = reply["clock"] is JsonValue c && c.TryGetValue<long>(out var n)
            ? n
            : throw new FabricMessageException("mingle hello reply field 'clock' must be an integer");
        return new HelloReply(revoked, clock);
    }
}

/// <summary>Answers a starting peer's <c>hello</c>: merges its revoked ids and replies with ours and the app clock; null to itself.</summary>
public sealed class HelloHandler(string nodeName, RevokedTaskSet revoked, LamportClock appClock) : IControlHandler
{
    public string Method => "hello";

    public IReadOnlyList<string> Aliases => [];

    public ValueTask<ControlResponse> HandleAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var hello = HelloArguments.Parse(request.Arguments);
        if (hello.FromNode == nodeName) return ValueTask.FromResult(ControlResponse.Reply(null));
        revoked.MergeMingle(hello.Revoked);
        return ValueTask.FromResult(ControlResponse.Reply(new HelloReply(revoked.ToMingle(), appClock.Forward()).ToJson()));
    }
}

/// <summary>A starting node's side of mingle: ask every node <c>hello</c>, take their revoked ids and move the app clock past theirs.</summary>
public static class MingleSync
{
    /// <summary>Returns how many peers answered; 0 means "mingle: all alone". A peer's malformed reply is logged and skipped.</summary>
    public static async Task<int> SyncAsync(
        PidboxClient client,
        string nodeName,
        RevokedTaskSet revoked,
        LamportClock appClock,
        MingleSettings? settings = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default) =>
        (await HelloAsync(client, nodeName, revoked, appClock, settings, logger, cancellationToken).ConfigureAwait(false)).Peers;

    /// <summary>
    /// Mingle as <see cref="SyncAsync"/>, also telling whether a node under <paramref name="nodeName"/> itself answered:
    /// a starting node has no mailbox yet, so such an answer comes from another live node of the same name.
    /// </summary>
    public static async Task<MingleOutcome> HelloAsync(
        PidboxClient client,
        string nodeName,
        RevokedTaskSet revoked,
        LamportClock appClock,
        MingleSettings? settings = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(revoked);
        ArgumentNullException.ThrowIfNull(appClock);
        settings ??= new MingleSettings();
        logger ??= NullLogger.Instance;
        var arguments = new HelloArguments(nodeName, revoked.ToMingle()).ToJson();
        var replies = await client.BroadcastAsync("hello", arguments, timeout: settings.Timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        var peers = 0;
        foreach (var reply in replies.Where(r => r.Node != nodeName))
        {
            try
            {
                var hello = HelloReply.Parse(reply.Value);
                appClock.Adjust(hello.Clock);
                revoked.MergeMingle(hello.Revoked);
                peers++;
            }
            catch (FabricMessageException e)
            {
                logger.LogWarning("mingle: ignored the reply of {Node}: {Problem}", reply.Node, e.Message);
            }
        }

        return new MingleOutcome(peers, replies.Any(r => r.Node == nodeName));
    }
}

/// <summary>What mingle found: how many peers it synced with, and whether a node of the starting node's own name answered.</summary>
public sealed record MingleOutcome(int Peers, bool NameAnswered);
