using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using RabbitMQ.Client;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Delayed delivery on RabbitMQ without a plugin: a ladder of fixed-TTL queues that dead-letter into each other.</summary>
/// <remarks>
/// <para>
/// Level k is a topic exchange and a durable queue, both named <c>cq.delay.&lt;k&gt;</c>, whose queue has
/// <c>x-message-ttl</c> = 2^k ms and dead-letters to level k-1 (level 0 to <c>cq.delay.deliver</c>). A delayed
/// message enters at the top level with the routing key <c>b30.b29.….b0.&lt;target&gt;</c>, the delay in binary:
/// each level's exchange sends it through its queue when its bit is 1 and straight on to the next level when it is 0.
/// So the message waits exactly the sum of its levels' TTLs, 2^31-1 ms (24.8 days) at most.
/// </para>
/// <para>
/// Why a ladder and not per-message expiration in one queue: RabbitMQ expires only the head of a queue, so a message
/// with a long expiration blocks every shorter one behind it. Every queue of the ladder has one fixed TTL, so its head
/// is always the first to expire. Why not hold ETA messages unacked in the consumer: RabbitMQ closes a channel whose
/// delivery stays unacked past <c>consumer_timeout</c> (30 minutes by default), and a held message counts against prefetch.
/// </para>
/// <para>
/// At the bottom, <c>cq.delay.deliver</c> routes on the target part of the key to a release queue
/// <c>cq.delay.release.&lt;target&gt;</c> per destination (exchange and routing key), with TTL 0 and that destination
/// as its dead-letter exchange and routing key, so the consumer sees the exchange and routing key it was published to.
/// The target is a hash, so any exchange or routing key fits in one topic word. The per-message expiration is dropped
/// on entry (it would expire the message early, out of its level); a Celery task still carries its <c>expires</c> header.
/// The <c>x-death</c> entries of the ladder's queues are removed on delivery.
/// </para>
/// </remarks>
internal sealed class AmqpDelayLadder
{
    public const int Levels = 31;
    public const string Prefix = "cq.delay.";
    public const string DeliverExchange = "cq.delay.deliver";
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds((1L << Levels) - 1);

    private readonly ConcurrentDictionary<string, byte> releasedTargets = new(StringComparer.Ordinal);
    private int ladderDeclared;

    public static string TopExchange => Level(Levels - 1);

    public static string Level(int k) => Prefix + k.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string ReleaseQueue(string target) => Prefix + "release." + target;

    /// <summary>A short, wildcard-free topic word naming the destination.</summary>
    public static string TargetOf(string exchange, string routingKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(exchange + "\0" + routingKey)))[..20];

    /// <summary>The delay as the ladder's routing key: one 0/1 word per level, top level first, then the target.</summary>
    public static string RoutingKey(long delayMs, string target)
    {
        var key = new StringBuilder(Levels * 2 + target.Length);
        for (var k = Levels - 1; k >= 0; k--)
        {
            key.Append(((delayMs >> k) & 1) == 1 ? '1' : '0').Append('.');
        }

        return key.Append(target).ToString();
    }

    /// <summary>Removes the x-death entries and x-first-death headers that the ladder's own queues added.</summary>
    public static IReadOnlyDictionary<string, object?> WithoutLadderDeaths(Dictionary<string, object?> headers)
    {
        if (headers.TryGetValue("x-death", out var deaths) && deaths is List<object?> entries)
        {
            entries.RemoveAll(entry => entry is IReadOnlyDictionary<string, object?> death
                && death.TryGetValue("queue", out var queue) && queue is string name && name.StartsWith(Prefix, StringComparison.Ordinal));
            if (entries.Count == 0)
            {
                headers.Remove("x-death");
            }
        }

        if (headers.TryGetValue("x-first-death-queue", out var first) && first is string firstQueue
            && firstQueue.StartsWith(Prefix, StringComparison.Ordinal))
        {
            headers.Remove("x-first-death-queue");
            headers.Remove("x-first-death-reason");
            headers.Remove("x-first-death-exchange");
        }

        return headers;
    }

    /// <summary>Declares the levels once per connection and the release queue of a destination once per destination.</summary>
    public async Task EnsureTargetAsync(IChannel channel, string exchange, string routingKey, string target, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref ladderDeclared) == 0)
        {
            await DeclareLevelsAsync(channel, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref ladderDeclared, 1);
        }

        if (releasedTargets.ContainsKey(target))
        {
            return;
        }

        var release = ReleaseQueue(target);
        await channel.QueueDeclareAsync(release, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?>
        {
            ["x-message-ttl"] = 0,
            ["x-dead-letter-exchange"] = exchange,
            ["x-dead-letter-routing-key"] = routingKey,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(release, DeliverExchange, Wildcards(Levels) + target, cancellationToken: cancellationToken).ConfigureAwait(false);
        releasedTargets[target] = 0;
    }

    private static async Task DeclareLevelsAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(DeliverExchange, "topic", durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        for (var k = 0; k < Levels; k++)
        {
            var name = Level(k);
            var next = k == 0 ? DeliverExchange : Level(k - 1);
            var position = Wildcards(Levels - 1 - k);
            await channel.ExchangeDeclareAsync(name, "topic", durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?>
            {
                ["x-message-ttl"] = 1 << k,
                ["x-dead-letter-exchange"] = next,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.QueueBindAsync(name, name, position + "1.#", cancellationToken: cancellationToken).ConfigureAwait(false);
            await channel.ExchangeBindAsync(next, name, position + "0.#", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Wildcards(int count) => string.Concat(Enumerable.Repeat("*.", count));
}
