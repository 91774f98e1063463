using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Commands;

/// <summary>Prints control replies as the <c>celery</c> command does: <c>-&gt;  node: OK</c> and the body indented below it.</summary>
public static class RemoteReplyPrinter
{
    // Celery's json.dumps leaves '+', '<' and '&' alone; the default encoder would print dates as "\u002B00:00".
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Compact JSON as the <c>--json</c> output shows it.</summary>
    public static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// One node's reply. <paramref name="withBody"/> is false for <c>status</c>, which shows the node line only.
    /// Returns false when the reply is an error, <c>{"error": ...}</c>.
    /// </summary>
    public static async Task<bool> WriteAsync(ControlReply reply, bool withBody, TextWriter output)
    {
        var (ok, body) = Pretty(reply.Value);
        await output.WriteLineAsync($"->  {reply.Node}: {(ok ? "OK" : "ERROR")}").ConfigureAwait(false);
        if (withBody)
        {
            await output.WriteLineAsync(Indent(body)).ConfigureAwait(false);
        }

        return ok;
    }

    /// <summary>True when a node refused or failed the command.</summary>
    public static bool IsError(JsonNode? value) => value is JsonObject o && !o.ContainsKey("ok") && o.ContainsKey("error");

    /// <summary>
    /// Celery's <c>CLIContext.pretty</c>: a list is one <c>* item</c> line per item (or <c>- empty -</c>), an
    /// <c>ok</c>/<c>error</c> object its indented text, any other object sorted JSON with an indent of 4.
    /// </summary>
    public static (bool Ok, string Body) Pretty(JsonNode? value)
    {
        switch (value)
        {
            case JsonArray { Count: 0 }:
                return (true, "- empty -");
            case JsonArray items:
                return (true, string.Join('\n', items.Select(item => "* " + Scalar(item))));
            case JsonObject o when o.TryGetPropertyValue("ok", out var ok):
                return (true, Indent(Pretty(ok).Body));
            case JsonObject o when o.TryGetPropertyValue("error", out var error):
                return (false, Indent(Pretty(error).Body));
            case JsonObject o:
                return (true, SortKeys(o)!.ToJsonString(Indented).ReplaceLineEndings("\n"));
            default:
                return (true, Scalar(value));
        }
    }

    /// <summary>The node count line Celery prints after <c>inspect</c> and <c>status</c>.</summary>
    public static string NodesOnline(int count) => $"{count} {(count == 1 ? "node" : "nodes")} online.";

    /// <summary>Celery's <c>text.indent(text, 4)</c>: it splits on newlines, so empty text and a final newline still get an indented (blank) line.</summary>
    public static string Indent(string text) =>
        string.Join('\n', text.Split('\n').Select(line => "    " + line));

    // Celery prints str(value): strings bare, anything else as Python's repr (None, True, {'id': ...}).
    private static string Scalar(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : ClusterQueue.Protocol.PythonRepr.Repr(value);

    private static JsonNode? SortKeys(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, SortKeys(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(SortKeys)]),
        _ => node?.DeepClone(),
    };
}
