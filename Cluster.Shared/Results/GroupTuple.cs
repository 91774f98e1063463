using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>
/// A saved group as Celery's <c>GroupResult.as_tuple</c> writes it: <c>[[group_id, parent], [member, ...]]</c>, each
/// member an <c>AsyncResult.as_tuple</c>, <c>[[member_id, parent], null]</c>. Every store keeps groups in this shape so
/// that a saved group reads as Celery's own (<c>GroupResult.restore</c> on the file backend reads exactly this).
/// </summary>
internal static class GroupTuple
{
    public static JsonArray Build(string groupId, IReadOnlyList<string> memberIds)
    {
        var members = new JsonArray();
        foreach (var id in memberIds)
        {
            members.Add(Task(id));
        }

        return new JsonArray(new JsonArray(groupId, null), members);
    }

    /// <summary>Celery's <c>AsyncResult.as_tuple</c> of one task: <c>[[id, null], null]</c>.</summary>
    public static JsonArray Task(string taskId) => [new JsonArray(taskId, null), null];

    public static string Serialize(string groupId, IReadOnlyList<string> memberIds) => Build(groupId, memberIds).ToJsonString();

    /// <exception cref="ResultFormatException">The text is not a group tuple; names the group and <paramref name="field"/>.</exception>
    public static IReadOnlyList<string> ParseMembers(string text, string groupId, string field = "result")
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ResultFormatException(groupId, field, "stored group is not valid JSON: " + e.Message, e);
        }

        return Members(node, groupId, field);
    }

    /// <summary>The member ids of a parsed tuple. A member that is itself a group (a group of groups) is named by its id.</summary>
    /// <exception cref="ResultFormatException">The node is not a group tuple.</exception>
    public static IReadOnlyList<string> Members(JsonNode? tuple, string groupId, string field = "result")
    {
        if (tuple is not JsonArray { Count: 2 } pair || pair[1] is not JsonArray members)
        {
            throw Bad(groupId, field);
        }

        var ids = new List<string>(members.Count);
        foreach (var member in members)
        {
            // [[id, parent], null] for a task, [[id, parent], [...]] for a nested group.
            if (member is not JsonArray { Count: 2 } entry || entry[0] is not JsonArray { Count: >= 1 } head
                || head[0] is not JsonValue value || !value.TryGetValue<string>(out var id))
            {
                throw Bad(groupId, field);
            }

            ids.Add(id);
        }

        return ids;
    }

    private static ResultFormatException Bad(string groupId, string field) =>
        new(groupId, field, "stored group is not Celery's GroupResult tuple [[group_id, parent], [[[member_id, parent], null], ...]]");
}
