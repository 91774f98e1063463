using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using ClusterQueue.Protocol;
using ClusterQueue.Transport.Routing;
using ClusterQueue.Transport.Virtual;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Transport.Sqs;

/// <summary>The Amazon SQS transport (<c>sqs://</c>) on AWSSDK.SQS, on kombu's model and wire format.</summary>
/// <remarks>
/// <para>
/// As in kombu, exchanges and bindings live in each process: SQS has queues only. A publish is routed through this
/// process's table, and the default exchange reaches any existing queue by name. Fanout to other processes does not
/// exist, so <see cref="Broadcasts"/> is false and remote control and events travel on the cluster instead.
/// </para>
/// <para>
/// Delayed delivery uses <c>DelaySeconds</c>. SQS delays by 15 minutes at most, so a message due later carries its
/// time in the <c>x-cq-not-before</c> attribute, and a consumer that receives it early sends it on with the next step
/// of delay and deletes the copy it received; it is never held in memory. Per-message and queue TTLs travel as
/// <c>x-cq-expires-at</c> and are enforced when the message is received.
/// </para>
/// </remarks>
internal sealed class SqsTransport : ITransport
{
    /// <summary>Unix milliseconds before which a message must not be handed to a consumer.</summary>
    public const string NotBeforeAttribute = "x-cq-not-before";

    /// <summary>Unix milliseconds after which a message is expired instead of delivered.</summary>
    public const string ExpiresAtAttribute = "x-cq-expires-at";

    private readonly AmazonSQSClient client;
    private readonly VirtualRoutingTable table = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> urls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<RequestBatcher<SendMessageBatchRequestEntry>>> senders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<SqsConsumer, byte> consumers = new();
    private readonly TimeProvider clock;
    private long unroutable;
    private long droppedDeadLetters;
    private long redelayed;
    private long requests;
    private int disposed;

    public SqsTransport(BrokerUrl url, BrokerSettings settings, ILogger logger, TimeProvider? clock = null)
    {
        Settings = settings.Sqs;
        Logger = logger;
        this.clock = clock ?? TimeProvider.System;
        client = CreateClient(url, settings);
    }

    /// <summary>Each process routes on its own, so fanout and topic exchanges reach only this process's queues.</summary>
    public bool Broadcasts => false;

    public SqsSettings Settings { get; }

    /// <summary>Messages published that matched no queue and were dropped.</summary>
    public long UnroutableCount => Interlocked.Read(ref unroutable);

    /// <summary>Messages rejected or expired on a queue without a dead-letter exchange, and so dropped.</summary>
    public long DroppedDeadLetterCount => Interlocked.Read(ref droppedDeadLetters);

    /// <summary>Messages received before their time and sent on with a further delay (ETAs beyond <see cref="SqsSettings.MaxDelay"/>).</summary>
    public long RedelayedCount => Interlocked.Read(ref redelayed);

    /// <summary>Requests made to SQS through <see cref="CallAsync{T}"/>: what a workload costs on real SQS.</summary>
    public long RequestCount => Interlocked.Read(ref requests);

    internal AmazonSQSClient Client => client;

    internal ILogger Logger { get; }

    internal long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>kombu's <c>entity_name</c>: the prefix, then the name with dots as dashes and other punctuation as underscores.</summary>
    public static string QueueName(string prefix, string queue)
    {
        var name = prefix + queue;
        var fifo = name.EndsWith(".fifo", StringComparison.Ordinal);
        var stem = fifo ? name[..^5] : name;
        var mapped = string.Create(stem.Length, stem, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                // kombu's table covers ASCII punctuation only (Python's string.punctuation).
                span[i] = c == '.' ? '-' : c < 0x80 && (char.IsPunctuation(c) || char.IsSymbol(c)) && c is not ('-' or '_') ? '_' : c;
            }
        });
        return fifo ? mapped + ".fifo" : mapped;
    }

    public ValueTask DeclareExchangeAsync(ExchangeDeclaration exchange, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        table.DeclareExchange(exchange);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DeclareQueueAsync(QueueDeclaration queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        table.DeclareQueue(queue);
        await UrlAsync(queue.Name, create: true, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask BindQueueAsync(QueueBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        table.Bind(binding);
        return ValueTask.CompletedTask;
    }

    public async ValueTask PublishAsync(
        string exchange,
        string routingKey,
        Envelope message,
        PublishOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentNullException.ThrowIfNull(message);
        FieldValues.Validate(message.Headers);
        var messageTtl = MessageTiming.ParseExpiration(message.Properties.Expiration);
        var targets = table.Route(exchange, routingKey, message.Headers);
        if (targets.Count == 0 && exchange.Length == 0 && await ExistsAsync(routingKey, cancellationToken).ConfigureAwait(false))
        {
            // Another process declared it: SQS queues are the only shared topology.
            targets = [routingKey];
        }

        if (targets.Count == 0)
        {
            Interlocked.Increment(ref unroutable);
            Logger.LogWarning("Dropped an unroutable message: exchange '{Exchange}', routing key '{RoutingKey}'", exchange, routingKey);
            return;
        }

        var now = NowMs;
        var visibleAt = options?.NotBefore is { } notBefore ? Math.Max(now, MessageTiming.CeilingMilliseconds(notBefore)) : now;
        var body = KombuMessage.Encode(message, exchange, routingKey);
        var reason = message.Headers.GetValueOrDefault(DeadLetter.ReasonHeader) as string;
        var sends = new List<Task>(targets.Count);
        foreach (var target in targets)
        {
            var queueTtl = table.TryGetQueue(target, out var declared) ? declared!.Arguments.MessageTtl : null;
            var expiresAt = MessageTiming.ExpiresAt(visibleAt, messageTtl, queueTtl);
            sends.Add(SendAsync(target, body, reason, visibleAt, expiresAt, cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    public async ValueTask<IQueueConsumer> ConsumeAsync(string queue, ConsumeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (options.Prefetch < 0)
        {
            throw new PreconditionFailedException($"queue '{queue}': prefetch must be 0 (no limit) or more, got {options.Prefetch}");
        }

        var url = await UrlAsync(queue, create: false, cancellationToken).ConfigureAwait(false);
        var consumer = new SqsConsumer(this, queue, url, options);
        consumers[consumer] = 0;
        consumer.Start();
        return consumer;
    }

    /// <summary>
    /// Counts the waiting and delayed messages and purges the queue. SQS's PurgeQueue also drops the messages in
    /// flight; their acks then find nothing to delete.
    /// </summary>
    public async ValueTask<long> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        var url = await UrlAsync(queue, create: false, cancellationToken).ConfigureAwait(false);
        var attributes = await CallAsync(
            () => client.GetQueueAttributesAsync(
                new GetQueueAttributesRequest
                {
                    QueueUrl = url,
                    AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
                },
                cancellationToken),
            $"counting the messages of queue '{queue}'", queue).ConfigureAwait(false);
        var count = Count(attributes, "ApproximateNumberOfMessages") + Count(attributes, "ApproximateNumberOfMessagesDelayed");
        if (count > 0)
        {
            try
            {
                await CallAsync(() => client.PurgeQueueAsync(new PurgeQueueRequest { QueueUrl = url }, cancellationToken), $"purging queue '{queue}'", queue)
                    .ConfigureAwait(false);
            }
            catch (TransportException e) when (e.InnerException is PurgeQueueInProgressException)
            {
                // SQS allows one purge a minute, and the one running removes these messages too.
            }
        }

        return count;
    }

    public async ValueTask DeleteQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        table.DeleteQueue(queue);
        if (!await ExistsAsync(queue, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var url = await UrlAsync(queue, create: false, cancellationToken).ConfigureAwait(false);
        urls.TryRemove(QueueName(Settings.QueueNamePrefix, queue), out _);
        await CallAsync(() => client.DeleteQueueAsync(new DeleteQueueRequest { QueueUrl = url }, cancellationToken), $"deleting queue '{queue}'", queue)
            .ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        foreach (var consumer in consumers.Keys)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var sender in senders.Values.Where(s => s.IsValueCreated))
        {
            await sender.Value.DisposeAsync().ConfigureAwait(false);
        }

        client.Dispose();
    }

    internal void Forget(SqsConsumer consumer) => consumers.TryRemove(consumer, out _);

    internal void CountRedelay() => Interlocked.Increment(ref redelayed);

    /// <summary>
    /// Sends the dead-letter copies of a rejected or expired message through the queue's dead-letter exchange in this
    /// process's table, as RabbitMQ would; counts it as dropped when the queue has none.
    /// </summary>
    internal async Task DeadLetterAsync(Delivery delivery, string reason, string? detail, CancellationToken cancellationToken)
    {
        var received = new StoredMessage(0, delivery.Queue, delivery.Message, delivery.Exchange, delivery.RoutingKey, delivery.Redelivered);
        var copies = DeadLettering.Copies(table, received, reason, detail, NowMs);
        if (copies.Count == 0)
        {
            Interlocked.Increment(ref droppedDeadLetters);
            return;
        }

        await Task.WhenAll(copies.Select(copy => SendAsync(
            copy.Queue, KombuMessage.Encode(copy.Message, copy.Exchange, copy.RoutingKey), detail ?? reason, copy.VisibleAtMs, copy.ExpiresAtMs,
            cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a kombu body on through batching, delayed by at most <see cref="SqsSettings.MaxDelay"/> towards its
    /// visible-at time. A dead-letter reason is copied to an attribute, which the SQS console shows.
    /// </summary>
    internal async Task SendAsync(
        string queue, string body, string? reason, long visibleAtMs, long? expiresAtMs, CancellationToken cancellationToken)
    {
        var url = await UrlAsync(queue, create: false, cancellationToken).ConfigureAwait(false);
        var delay = (int)Math.Clamp(Math.Ceiling((visibleAtMs - NowMs) / 1000.0), 0, Settings.MaxDelay.TotalSeconds);
        var attributes = new Dictionary<string, MessageAttributeValue>(StringComparer.Ordinal);
        if (visibleAtMs > NowMs + delay * 1000L)
        {
            attributes[NotBeforeAttribute] = Number(visibleAtMs);
        }

        if (expiresAtMs is { } expires)
        {
            attributes[ExpiresAtAttribute] = Number(expires);
        }

        if (!string.IsNullOrEmpty(reason))
        {
            attributes[DeadLetter.ReasonHeader] = new MessageAttributeValue { DataType = "String", StringValue = reason };
        }

        var entry = new SendMessageBatchRequestEntry
        {
            Id = "0",
            MessageBody = body,
            DelaySeconds = delay,
            MessageAttributes = attributes.Count > 0 ? attributes : null,
        };
        var sender = senders.GetOrAdd(url, u => new Lazy<RequestBatcher<SendMessageBatchRequestEntry>>(() => new RequestBatcher<SendMessageBatchRequestEntry>(
            (entries, token) => SendBatchAsync(u, queue, entries, token), size: PayloadBytes)));
        await sender.Value.SendAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The queue's URL, cached; with <paramref name="create"/> the queue is created when missing.</summary>
    /// <exception cref="QueueNotFoundException">The queue does not exist and <paramref name="create"/> is false.</exception>
    internal async Task<string> UrlAsync(string queue, bool create, CancellationToken cancellationToken)
    {
        var name = QueueName(Settings.QueueNamePrefix, queue);
        if (name.EndsWith(".fifo", StringComparison.Ordinal))
        {
            throw new PreconditionFailedException(
                $"queue '{queue}': SQS FIFO queues are not supported (they need message groups and refuse per-message delays); use a standard queue");
        }

        if (name.Length is 0 or > 80 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new PreconditionFailedException(
                $"queue '{queue}' maps to SQS name '{name}', which SQS refuses: 1 to 80 ASCII letters, digits, '-' and '_'");
        }

        var lookup = urls.GetOrAdd(name, n => new Lazy<Task<string>>(() => LookUpAsync(queue, n, create)));
        try
        {
            return await lookup.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lookup.Value.IsFaulted)
        {
            // A failed lookup is not cached: the queue may be created later, or the service may come back.
            urls.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(name, lookup));
            if (create && lookup.Value.Exception?.InnerException is QueueNotFoundException)
            {
                return await UrlAsync(queue, create, cancellationToken).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// One SQS request, counted, with its failures as <see cref="TransportException"/>s naming <paramref name="what"/>.
    /// When SQS says the queue is gone, the cached URL of <paramref name="queue"/> is dropped.
    /// </summary>
    internal async Task<T> CallAsync<T>(Func<Task<T>> call, string what, string? queue = null)
    {
        Interlocked.Increment(ref requests);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (QueueDoesNotExistException e)
        {
            if (queue is not null)
            {
                // Deleted behind our back: the next declaration creates it again instead of using a dead URL.
                urls.TryRemove(QueueName(Settings.QueueNamePrefix, queue), out _);
            }

            throw new TransportException($"SQS: {what} failed: the queue no longer exists ({e.Message})", e);
        }
        catch (AmazonServiceException e)
        {
            throw new TransportException($"SQS: {what} failed: {e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or AmazonClientException or IOException or TimeoutException or ObjectDisposedException)
        {
            throw new TransportException($"SQS: {what} failed: {e.Message}", e);
        }
    }

    private async Task<string> LookUpAsync(string queue, string name, bool create)
    {
        try
        {
            var found = await client.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = name }).ConfigureAwait(false);
            return found.QueueUrl;
        }
        catch (QueueDoesNotExistException) when (!create)
        {
            throw new QueueNotFoundException(queue);
        }
        catch (QueueDoesNotExistException)
        {
            return await CreateAsync(queue, name).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            throw new TransportException($"SQS: looking up queue '{name}' failed: {e.Message}", e);
        }
    }

    private async Task<string> CreateAsync(string queue, string name)
    {
        var attributes = new Dictionary<string, string>
        {
            ["VisibilityTimeout"] = ((int)Settings.VisibilityTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        };
        if (name.EndsWith(".fifo", StringComparison.Ordinal))
        {
            attributes["FifoQueue"] = "true";
        }

        if (Settings.MaxReceiveCount > 0 && !name.EndsWith("-dlq", StringComparison.Ordinal))
        {
            var deadLetters = await UrlAsync(queue + ".dlq", create: true, CancellationToken.None).ConfigureAwait(false);
            var arn = await CallAsync(
                () => client.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = deadLetters, AttributeNames = ["QueueArn"] }),
                $"reading the ARN of the dead-letter queue of '{queue}'").ConfigureAwait(false);
            attributes["RedrivePolicy"] = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["deadLetterTargetArn"] = arn.Attributes?.GetValueOrDefault("QueueArn")
                    ?? throw new TransportException($"SQS: the dead-letter queue of '{queue}' has no QueueArn attribute"),
                ["maxReceiveCount"] = Settings.MaxReceiveCount.ToString(CultureInfo.InvariantCulture),
            });
        }

        var created = await CallAsync(
            () => client.CreateQueueAsync(new CreateQueueRequest { QueueName = name, Attributes = attributes }),
            $"creating queue '{name}'").ConfigureAwait(false);
        Logger.LogInformation("Created SQS queue {Queue}", name);
        return created.QueueUrl;
    }

    private async Task<bool> ExistsAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            await UrlAsync(queue, create: false, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (QueueNotFoundException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<Exception?>> SendBatchAsync(
        string url, string queue, IReadOnlyList<SendMessageBatchRequestEntry> entries, CancellationToken cancellationToken)
    {
        var numbered = entries.Select((entry, i) =>
        {
            entry.Id = i.ToString(CultureInfo.InvariantCulture);
            return entry;
        }).ToList();
        var response = await CallAsync(
            () => client.SendMessageBatchAsync(new SendMessageBatchRequest { QueueUrl = url, Entries = numbered }, cancellationToken),
            $"sending to queue '{queue}'", queue).ConfigureAwait(false);
        var outcomes = new Exception?[entries.Count];
        foreach (var failed in response.Failed ?? [])
        {
            outcomes[int.Parse(failed.Id, CultureInfo.InvariantCulture)] =
                new TransportException($"SQS refused a message for queue '{queue}': {failed.Code}: {failed.Message}");
        }

        return outcomes;
    }

    private static int PayloadBytes(SendMessageBatchRequestEntry entry) =>
        entry.MessageBody.Length
        + (entry.MessageAttributes?.Sum(a => a.Key.Length + a.Value.DataType.Length + (a.Value.StringValue?.Length ?? 0)) ?? 0);

    private static MessageAttributeValue Number(long value) =>
        new() { DataType = "Number", StringValue = value.ToString(CultureInfo.InvariantCulture) };

    private static long Count(GetQueueAttributesResponse response, string name) =>
        response.Attributes is { } attributes && attributes.TryGetValue(name, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>
    /// Credentials from the URL (<c>sqs://KEY:SECRET@</c>), then the settings, then the SDK's default chain; the endpoint
    /// from the URL's host, then the settings (or <c>AWS_ENDPOINT_URL_SQS</c>), then the region's.
    /// </summary>
    private static AmazonSQSClient CreateClient(BrokerUrl url, BrokerSettings settings)
    {
        var sqs = settings.Sqs;
        var config = new AmazonSQSConfig
        {
            Timeout = TimeSpan.FromSeconds(sqs.WaitTimeSeconds) + settings.ConnectionTimeout + TimeSpan.FromSeconds(10),
            MaxErrorRetry = settings.ConnectionRetry ? 3 : 0,
        };
        var (key, secret, endpoint) = url.SqsParts();
        if (endpoint.Length == 0)
        {
            endpoint = sqs.Endpoint;
        }

        if (endpoint.Length > 0)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = sqs.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(sqs.Region);
        }

        if (key.Length == 0 && sqs.AccessKeyId.Length > 0)
        {
            (key, secret) = (sqs.AccessKeyId, sqs.SecretAccessKey);
        }

        return key.Length > 0 ? new AmazonSQSClient(new BasicAWSCredentials(key, secret), config) : new AmazonSQSClient(config);
    }
}
