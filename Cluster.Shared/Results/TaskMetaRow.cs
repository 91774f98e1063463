using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>
/// The <c>celery_taskmeta</c> row as the SQL backends store it: the same twelve columns in the same order, JSON
/// columns as text. Only <c>date_done</c> differs by database, so the caller reads that one.
/// </summary>
internal static class TaskMetaRow
{
    /// <summary>Reads the row at the reader's position; <paramref name="dateDone"/> is column 5 as this database keeps it.</summary>
    public static TaskResult Read(DbDataReader reader, string taskId, DateTime? dateDone) => new()
    {
        TaskId = reader.GetString(0),
        Status = reader.GetString(1),
        Result = JsonColumn(reader, 2, "result", taskId),
        Traceback = reader.IsDBNull(3) ? null : reader.GetString(3),
        Children = JsonColumn(reader, 4, "children", taskId) ?? new JsonArray(),
        DateDone = dateDone,
        Name = reader.IsDBNull(6) ? null : reader.GetString(6),
        Args = JsonColumn(reader, 7, "args", taskId),
        Kwargs = JsonColumn(reader, 8, "kwargs", taskId),
        Worker = reader.IsDBNull(9) ? null : reader.GetString(9),
        Retries = reader.IsDBNull(10) ? null : reader.GetInt32(10),
        Queue = reader.IsDBNull(11) ? null : reader.GetString(11),
    };

    // A JSON null result is stored as the text "null", so that SQL NULL keeps meaning "not set".
    public static string JsonText(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static JsonNode? JsonColumn(DbDataReader reader, int ordinal, string column, string taskId)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        var text = reader.GetString(ordinal);
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ResultFormatException(taskId, column, "stored value is not valid JSON: " + e.Message, e);
        }
    }
}
