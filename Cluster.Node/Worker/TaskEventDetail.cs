using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Node.Worker;

/// <summary>What a Celery task event carries beyond <see cref="TaskLifecycleEvent"/>: the message, the result, the traceback, how a revoke happened.</summary>
internal sealed record TaskEventDetail(
    TaskMessage? Message = null,
    JsonNode? Result = null,
    string? Traceback = null,
    bool Terminated = false,
    bool Expired = false)
{
    public static readonly TaskEventDetail None = new();
}
