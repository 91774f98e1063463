using System.Text.Json.Nodes;

namespace ClusterQueue.Fabric.Control;

/// <summary>Where a node sends its reply: the reply exchange and the caller's oid as routing key.</summary>
public sealed record ReplyAddress(string Exchange, string RoutingKey);

/// <summary>One remote-control request as kombu's <c>Mailbox._broadcast</c> sends it, with its pidbox headers.</summary>
public sealed record ControlRequest
{
    public required string Method { get; init; }

    /// <summary>The command's keyword arguments; the argument records (e.g. <see cref="RevokeArguments"/>) read and write the ones Celery's client sends.</summary>
    public JsonObject Arguments { get; init; } = [];

    /// <summary>Node names that should act; null means every node.</summary>
    public IReadOnlyList<string>? Destination { get; init; }

    public string? Pattern { get; init; }

    /// <summary><c>glob</c> or <c>pcre</c>; the pattern is applied only when both are given.</summary>
    public string? Matcher { get; init; }

    /// <summary>Present only when a reply is wanted; replies carry it in their <c>ticket</c> header.</summary>
    public string? Ticket { get; init; }

    public ReplyAddress? ReplyTo { get; init; }

    /// <summary>The sender's mailbox clock (header <c>clock</c>).</summary>
    public long Clock { get; init; }

    /// <summary>Header <c>expires</c>: epoch seconds after which the sender stops listening, 0 for none. Nodes do not check it, as kombu 5.2.4 does not.</summary>
    public double Expires { get; init; }

    public bool WantsReply => Ticket is not null && ReplyTo is not null;
}

/// <summary>One node's answer to a request: the body <c>{"&lt;node&gt;": value}</c> with its <c>ticket</c> and <c>clock</c> headers.</summary>
public sealed record ControlReply(string Node, JsonNode? Value, string? Ticket, long Clock);
