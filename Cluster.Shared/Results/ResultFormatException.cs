namespace ClusterQueue.Results;

/// <summary>A stored or received result that cannot be read; names the task and the field at fault.</summary>
public sealed class ResultFormatException : Exception
{
    public ResultFormatException(string taskId, string field, string problem, Exception? inner = null)
        : base($"Result of task '{taskId}' has a bad '{field}' field: {problem}", inner)
    {
        TaskId = taskId;
        Field = field;
    }

    public string TaskId { get; }

    public string Field { get; }
}
