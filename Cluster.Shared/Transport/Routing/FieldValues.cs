using System.Collections;

namespace ClusterQueue.Transport.Routing;

/// <summary>Checks and compares header and argument values against the AMQP field types the envelope allows.</summary>
public static class FieldValues
{
    /// <summary>Throws naming the header when a value is not one of the envelope's field types, so it fails at publish and not on another transport later.</summary>
    public static void Validate(IReadOnlyDictionary<string, object?> headers)
    {
        foreach (var (key, value) in headers)
        {
            Validate(key, value);
        }
    }

    /// <summary>Integers compare by value whatever their width, as Python sees them.</summary>
    public static bool AreEqual(object? expected, object? actual) => (expected, actual) switch
    {
        (int a, int b) => a == b,
        (int a, long b) => a == b,
        (long a, int b) => a == b,
        (long a, long b) => a == b,
        _ => Equals(expected, actual),
    };

    private static void Validate(string path, object? value)
    {
        switch (value)
        {
            case null or string or int or long or double or bool:
                return;
            case IReadOnlyDictionary<string, object?> map:
                foreach (var (key, item) in map)
                {
                    Validate($"{path}.{key}", item);
                }

                return;
            case IEnumerable list:
                var index = 0;
                foreach (var item in list)
                {
                    Validate($"{path}[{index++}]", item);
                }

                return;
            default:
                throw new PreconditionFailedException(
                    $"header {path}: values of type {value.GetType().Name} cannot be carried; use string, int, long, double, bool, null, a list or a string-keyed map");
        }
    }
}
