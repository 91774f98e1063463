using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Node.Worker;

/// <summary>The next task of a chain, built from a finished task's <c>embed.chain</c> as Celery's worker builds it.</summary>
/// <param name="Message">The follow-up task message.</param>
/// <param name="Queue">The queue named in the signature's options; null means the app's route for the task.</param>
internal sealed record ChainLink(TaskMessage Message, string? Queue)
{
    /// <summary>
    /// The follow-up of <paramref name="finished"/>, or null when the chain ends here. The chain is stored last-to-run
    /// first, so the last signature runs next and the rest travel with it. The parent's result is prepended to its args
    /// unless the signature is immutable; parent_id is the finished task, root_id stays, and the parent's priority
    /// applies unless the signature sets its own.
    /// </summary>
    /// <exception cref="MessageDecodeException">An option of the next signature has the wrong type; the error names it.</exception>
    public static ChainLink? After(TaskMessage finished, JsonNode? result)
    {
        if (finished.Embed.Chain is not { Count: > 0 } chain)
        {
            return null;
        }

        var next = chain[^1];
        var options = next.Options;
        var id = StringOption(options, "task_id") ?? Uuid.NewId();
        var args = next.Immutable
            ? (JsonArray)next.Args.DeepClone()
            : new JsonArray([result?.DeepClone(), .. next.Args.Select(a => a?.DeepClone())]);
        var message = new TaskMessage
        {
            Task = next.Task,
            Id = id,
            RootId = finished.RootId ?? finished.Id,
            ParentId = finished.Id,
            CorrelationId = id,
            ReplyTo = StringOption(options, "reply_to") ?? finished.ReplyTo ?? "",
            Priority = PriorityOption(options) ?? finished.Priority,
            DeliveryMode = finished.DeliveryMode,
            Args = args,
            Kwargs = (JsonObject)next.Kwargs.DeepClone(),
            Embed = new TaskEmbed { Chain = chain.Take(chain.Count - 1).ToList() },
        };
        return new ChainLink(message, StringOption(options, "queue"));
    }

    /// <summary>Celery's children list for the finished task: <c>[[[next_id, null], null]]</c>.</summary>
    public JsonArray Children() => [new JsonArray(new JsonArray(Message.Id, null), null)];

    private static string? StringOption(JsonObject options, string name) => options[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw new MessageDecodeException($"body[2].chain[-1].options.{name}", $"must be a string, got {other.GetValueKind()}"),
    };

    private static byte? PriorityOption(JsonObject options) => options["priority"] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<int>(out var priority) && priority is >= 0 and <= 255 => (byte)priority,
        var other => throw new MessageDecodeException("body[2].chain[-1].options.priority", $"must be an integer 0-255, got {other.ToJsonString()}"),
    };
}
