using System.Globalization;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Fabric;

/// <summary>Celery's <c>rate()</c>: a bad unit is <c>KeyError('x')</c> and a bad number Python's float error, as a Python worker replies.</summary>
internal static class CeleryRate
{
    public static RateLimit? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split('/', 2);
        var unit = parts.Length == 2 ? parts[1] : "s";
        if (unit is not ("s" or "m" or "h"))
        {
            throw new ControlCommandException("KeyError", unit);
        }

        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            throw new ControlCommandException("ValueError", $"could not convert string to float: {ClusterQueue.Protocol.PythonRepr.Repr(parts[0])}");
        }

        return ClusterQueue.Client.RateLimit.Parse(text);
    }
}
