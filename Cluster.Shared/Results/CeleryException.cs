using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>An exception that task code raises to fail with a Python identity, e.g. <c>new CeleryException("ValueError", "builtins", "bad")</c>.</summary>
public class CeleryException : Exception
{
    public CeleryException(string excType, string excModule, params object?[] args)
        : base(MessageOf(excType, args))
    {
        ArgumentException.ThrowIfNullOrEmpty(excType);
        ArgumentException.ThrowIfNullOrEmpty(excModule);
        ArgumentNullException.ThrowIfNull(args);
        ExcType = excType;
        ExcModule = excModule;
        Args = args.Select(ToJsonArg).ToList();
    }

    public string ExcType { get; }

    public string ExcModule { get; }

    /// <summary>The args as JSON, what Celery writes as <c>exc_message</c>.</summary>
    public IReadOnlyList<JsonNode?> Args { get; }

    // Celery replaces an argument that JSON cannot carry by its repr; ToString is the nearest .NET equivalent.
    private static JsonNode? ToJsonArg(object? arg)
    {
        if (arg is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.SerializeToNode(arg, arg.GetType());
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            return JsonValue.Create(arg.ToString());
        }
    }

    private static string MessageOf(string excType, object?[]? args) =>
        args is { Length: > 0 } ? $"{excType}: {string.Join(", ", args)}" : excType;
}
