using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Fabric;

/// <summary>Reads and writes cluster-message bodies as Python's <c>json.dumps</c> does, so a Python peer sees ints and floats as sent.</summary>
internal static class FabricJson
{
    public static byte[] Serialize(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        new PythonJsonWriter(buffer).Node(node);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a body, turning malformed JSON into a <see cref="FabricMessageException"/> that names <paramref name="what"/>.</summary>
    public static JsonNode? Parse(ReadOnlyMemory<byte> body, string what)
    {
        try
        {
            return JsonNode.Parse(body.Span);
        }
        catch (JsonException e)
        {
            throw new FabricMessageException($"{what} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>A deep copy, so that a node taken from one tree can be placed in another.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();
}

/// <summary>A cluster message (control request or reply, event, mingle payload) was malformed; the message names the field.</summary>
public sealed class FabricMessageException(string message, Exception? inner = null) : Exception(message, inner);
