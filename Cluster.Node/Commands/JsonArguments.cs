using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Node.Commands;

/// <summary>Parses the JSON and date values given on the command line, naming the option when one is malformed.</summary>
public static class JsonArguments
{
    /// <summary>Reads a JSON array such as <c>[2, 3]</c>; null text means no arguments.</summary>
    public static JsonArray ParseArray(string? text, string option) =>
        Parse(text, option, "a JSON array such as '[2, 3]'") switch
        {
            null => [],
            JsonArray array => array,
            var other => throw CommandException.BadData($"{option} must be a JSON array such as '[2, 3]', got a JSON {Kind(other)}"),
        };

    /// <summary>Reads a JSON object such as <c>{"x": 1}</c>; null text means no keyword arguments.</summary>
    public static JsonObject ParseObject(string? text, string option) =>
        Parse(text, option, "a JSON object such as '{\"x\": 1}'") switch
        {
            null => [],
            JsonObject obj => obj,
            var other => throw CommandException.BadData($"{option} must be a JSON object such as '{{\"x\": 1}}', got a JSON {Kind(other)}"),
        };

    /// <summary>Reads an ISO 8601 time; one without an offset is taken as UTC, as Celery does for a naive eta.</summary>
    public static DateTimeOffset? ParseTime(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw CommandException.BadData($"{option} must be an ISO 8601 time such as 2026-11-21T12:00:00Z, got '{text}'");
    }

    private static JsonNode? Parse(string? text, string option, string expected)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) ?? throw CommandException.BadData($"{option} must be {expected}, got null");
        }
        catch (JsonException e)
        {
            throw CommandException.BadData($"{option} is not valid JSON ({e.Message}); expected {expected}");
        }
    }

    private static string Kind(JsonNode node) => node.GetValueKind().ToString().ToLowerInvariant();
}
