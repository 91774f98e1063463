using System.Text;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Transport;

/// <summary>Helpers shared by the transport tests: envelopes with readable bodies and bounded awaits.</summary>
internal static class TransportTestKit
{
    /// <summary>Generous, because the test machine is small and busy; a passing await finishes in milliseconds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static Envelope Message(string body, byte? priority = 0, string? expiration = null, IReadOnlyDictionary<string, object?>? headers = null) =>
        new()
        {
            Body = Encoding.UTF8.GetBytes(body),
            Properties = MessageProperties.Json with { Priority = priority, Expiration = expiration },
            Headers = headers ?? Envelope.NoHeaders,
        };

    public static string Text(this Delivery delivery) => Encoding.UTF8.GetString(delivery.Message.Body.Span);

    public static async Task<Delivery> NextAsync(this IQueueConsumer consumer)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return await consumer.Deliveries.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no delivery on queue '{consumer.Queue}' within {Patience}");
        }
    }

    public static async Task<List<Delivery>> NextAsync(this IQueueConsumer consumer, int count)
    {
        var deliveries = new List<Delivery>(count);
        for (var i = 0; i < count; i++)
        {
            deliveries.Add(await consumer.NextAsync());
        }

        return deliveries;
    }

    /// <summary>Waits for the consumer's channel to complete and returns the error it completed with.</summary>
    public static async Task<Exception?> CompletionAsync(this IQueueConsumer consumer)
    {
        try
        {
            await consumer.Deliveries.Completion.WaitAsync(Patience);
            return null;
        }
        catch (TimeoutException)
        {
            throw;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Polls a probe until it holds, for states that raise no event (a counter behind a background loop).</summary>
    public static async Task EventuallyAsync(Func<bool> probe, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!probe())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not happen within {Patience}");
            }

            await Task.Delay(10);
        }
    }

    public static bool TryReadNow(this IQueueConsumer consumer, out Delivery? delivery) =>
        consumer.Deliveries.TryRead(out delivery);

    public static Dictionary<string, object?> Map(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}
