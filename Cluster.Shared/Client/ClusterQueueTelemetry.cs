using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ClusterQueue.Client;

/// <summary>The <c>ClusterQueue</c> activity source and meter, and the W3C trace context carried in task message headers.</summary>
public static class ClusterQueueTelemetry
{
    public const string Name = "ClusterQueue";

    /// <summary>The W3C header name; it travels as an extra task header so that Python clients pass it through untouched.</summary>
    public const string TraceParentHeader = "traceparent";

    public const string TraceStateHeader = "tracestate";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Returns <paramref name="headers"/> with the trace context of <paramref name="activity"/> in place of any earlier one.</summary>
    public static IReadOnlyList<KeyValuePair<string, object?>> WithTraceContext(IReadOnlyList<KeyValuePair<string, object?>> headers, Activity? activity)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C)
        {
            return headers;
        }

        var result = headers.Where(h => h.Key is not (TraceParentHeader or TraceStateHeader)).ToList();
        result.Add(new(TraceParentHeader, activity.Id));
        if (!string.IsNullOrEmpty(activity.TraceStateString))
        {
            result.Add(new(TraceStateHeader, activity.TraceStateString));
        }

        return result;
    }

    /// <summary>The parent context a message carries; default when it carries none or a malformed one.</summary>
    public static ActivityContext ParentFrom(IReadOnlyList<KeyValuePair<string, object?>> headers)
    {
        string? parent = null, state = null;
        foreach (var (key, value) in headers)
        {
            if (key == TraceParentHeader)
            {
                parent = value as string;
            }
            else if (key == TraceStateHeader)
            {
                state = value as string;
            }
        }

        return parent is not null && ActivityContext.TryParse(parent, state, isRemote: true, out var context) ? context : default;
    }
}
