using System.Collections;
using System.Text;
using ClusterQueue.Transport.Routing;
using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Converts header and argument tables between the envelope's value types and RabbitMQ.Client's field values.</summary>
/// <remarks>
/// Python's py-amqp reads the tag <c>l</c> as unsigned and <c>s</c> as a short string (interop note 3), so integers
/// go out as 32-bit <c>I</c> whenever they fit; a larger non-negative long keeps <c>l</c>, which Python reads correctly,
/// and a larger negative one is refused because Python would read it as a huge positive number.
/// </remarks>
internal static class AmqpFieldTable
{
    // Header bytes come from any publisher; a bad UTF-8 sequence must not make a delivery unreadable.
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The table to send; throws <see cref="PreconditionFailedException"/> naming the first value that cannot travel.</summary>
    public static Dictionary<string, object?>? ToAmqp(IReadOnlyDictionary<string, object?>? table, string what)
    {
        if (table is null || table.Count == 0)
        {
            return null;
        }

        FieldValues.Validate(table);
        var converted = new Dictionary<string, object?>(table.Count, StringComparer.Ordinal);
        foreach (var (key, value) in table)
        {
            converted[key] = ToAmqpValue(value, $"{what} {key}");
        }

        return converted;
    }

    /// <summary>A received table in the envelope's value types: strings decoded from UTF-8, timestamps as Unix seconds.</summary>
    public static Dictionary<string, object?> FromAmqp(IDictionary<string, object?>? table)
    {
        var converted = new Dictionary<string, object?>(table?.Count ?? 0, StringComparer.Ordinal);
        if (table is not null)
        {
            foreach (var (key, value) in table)
            {
                converted[key] = FromAmqpValue(value);
            }
        }

        return converted;
    }

    private static object? ToAmqpValue(object? value, string path) => value switch
    {
        null or string or int or double or bool => value,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        long l when l >= 0 => l,
        long l => throw new PreconditionFailedException(
            $"{path}: the integer {l} is below the 32-bit range and Python would read it as unsigned; send it as a string or a double"),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(p => p.Key, p => ToAmqpValue(p.Value, $"{path}.{p.Key}"), StringComparer.Ordinal),
        IEnumerable list => list.Cast<object?>().Select((item, i) => ToAmqpValue(item, $"{path}[{i}]")).ToList(),
        _ => throw new PreconditionFailedException($"{path}: values of type {value.GetType().Name} cannot be carried"),
    };

    private static object? FromAmqpValue(object? value) => value switch
    {
        null or string or int or long or double or bool => value,
        byte[] bytes => Utf8.GetString(bytes),
        BinaryTableValue binary => Utf8.GetString(binary.Bytes ?? []),
        float f => (double)f,
        decimal d => (double)d,
        sbyte or byte or short or ushort => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture),
        uint u => (long)u,
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        AmqpTimestamp timestamp => timestamp.UnixTime,
        IDictionary<string, object?> map => FromAmqp(map),
        IEnumerable list => list.Cast<object?>().Select(FromAmqpValue).ToList(),
        _ => value.ToString(),
    };
}
