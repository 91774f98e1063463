using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Fabric.Control;

/// <summary>One remote-control command on a node, found by its method name or one of its aliases.</summary>
public interface IControlHandler
{
    string Method { get; }

    /// <summary>Other names Celery accepts for the same command, e.g. <c>dump_active</c> for <c>active</c>.</summary>
    IReadOnlyList<string> Aliases { get; }

    /// <summary>
    /// Runs the command. An exception becomes the reply <c>{"error": "&lt;repr&gt;"}</c> and the node keeps running;
    /// throw <see cref="ControlCommandException"/> to choose the Python exception name in that repr.
    /// </summary>
    ValueTask<ControlResponse> HandleAsync(ControlRequest request, CancellationToken cancellationToken);
}

/// <summary>What a handler answers: a reply value (null is a valid one, as <c>heartbeat</c> sends), or no reply at all (<c>shutdown</c>).</summary>
public sealed class ControlResponse
{
    private ControlResponse(JsonNode? value, bool sendsReply)
    {
        Value = value;
        SendsReply = sendsReply;
    }

    /// <summary>Celery's <c>shutdown</c> never replies; the caller times out with no answer from this node.</summary>
    public static ControlResponse NoReply { get; } = new(null, false);

    public JsonNode? Value { get; }

    public bool SendsReply { get; }

    public static ControlResponse Reply(JsonNode? value) => new(value, true);

    /// <summary>Celery's <c>ok(text)</c>: <c>{"ok": text}</c>.</summary>
    public static ControlResponse Ok(string text) => Reply(new JsonObject { ["ok"] = text });

    /// <summary>Celery's <c>nok(text)</c>: <c>{"error": text}</c>, a refusal that is not an exception.</summary>
    public static ControlResponse Error(string text) => Reply(new JsonObject { ["error"] = text });
}

/// <summary>A command failed; the reply carries <c>{"error": "Name('message')"}</c>, Python's repr of the exception.</summary>
/// <remarks><c>pythonName</c> is the exception class a Python worker would name, e.g. <c>KeyError</c> or <c>ValueError</c>.</remarks>
public class ControlCommandException(string pythonName, string message, Exception? inner = null) : Exception(message, inner)
{
    public string PythonName { get; } = pythonName;

    /// <summary>Python's <c>repr(exc)</c> of a one-argument exception: <c>ValueError('Autoscale not enabled')</c>.</summary>
    public string PythonRepr => $"{PythonName}({ClusterQueue.Protocol.PythonRepr.Repr(Message)})";

    /// <summary>The repr of any exception: a <see cref="ControlCommandException"/> keeps its Python name, others use the .NET type name.</summary>
    public static string ReprOf(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is ControlCommandException c ? c.PythonRepr : $"{exception.GetType().Name}({Protocol.PythonRepr.Repr(exception.Message)})";
    }
}

/// <summary>A command argument was missing or of the wrong type; the message names it (a Python worker raises ValueError or TypeError).</summary>
public sealed class ControlArgumentException(string argument, string problem)
    : ControlCommandException("ValueError", $"argument '{argument}' {problem}")
{
    public string Argument { get; } = argument;
}

/// <summary>A handler made from a delegate, for commands whose work fits in a lambda.</summary>
public sealed class DelegateControlHandler(
    string method,
    Func<ControlRequest, CancellationToken, ValueTask<ControlResponse>> handle,
    params string[] aliases) : IControlHandler
{
    public string Method { get; } = method;

    public IReadOnlyList<string> Aliases { get; } = aliases;

    public ValueTask<ControlResponse> HandleAsync(ControlRequest request, CancellationToken cancellationToken) => handle(request, cancellationToken);
}
