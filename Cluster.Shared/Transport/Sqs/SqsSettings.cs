namespace ClusterQueue.Transport.Sqs;

/// <summary>The <c>cluster-queue.broker.sqs</c> settings: Celery's SQS transport options, with Celery's defaults.</summary>
public sealed record SqsSettings
{
    /// <summary>SQS refuses a visibility timeout above 12 hours.</summary>
    public static readonly TimeSpan MaxVisibilityTimeout = TimeSpan.FromSeconds(43_200);

    /// <summary>SQS delays a message by at most 15 minutes.</summary>
    public static readonly TimeSpan MaxDelaySeconds = TimeSpan.FromSeconds(900);

    /// <summary>AWS region of the queues (<c>region</c>).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Service endpoint, for a local server; empty means the region's endpoint, or <c>AWS_ENDPOINT_URL_SQS</c> when set.</summary>
    public string Endpoint { get; init; } = "";

    /// <summary>Prefix of every queue name (<c>queue-name-prefix</c>), as kombu's <c>queue_name_prefix</c>.</summary>
    public string QueueNamePrefix { get; init; } = "";

    /// <summary>How long a received, undeleted message stays hidden; the worker extends it while it holds the message.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Sleep after a long poll that returned nothing (kombu's <c>polling_interval</c>).</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Long-polling wait of one ReceiveMessage call, 0 to 20 seconds.</summary>
    public int WaitTimeSeconds { get; init; } = 20;

    /// <summary>
    /// Longest delay of one send; a later ETA is reached in steps of this size (<c>max-delay</c>). SQS allows 900 s;
    /// a smaller step only costs more sends.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = MaxDelaySeconds;

    /// <summary>With a value above 0, queues are created with a redrive policy to their dead-letter queue after this many receives.</summary>
    public int MaxReceiveCount { get; init; }

    /// <summary>Access key; the URL's user, then this, then the SDK's default chain.</summary>
    public string AccessKeyId { get; init; } = "";

    /// <summary>Secret key that goes with <see cref="AccessKeyId"/>.</summary>
    public string SecretAccessKey { get; init; } = "";

    /// <summary>Throws naming the key and its limit for a value SQS would refuse.</summary>
    public void Validate()
    {
        const string prefix = "cluster-queue.broker.sqs.";
        if (VisibilityTimeout < TimeSpan.FromSeconds(1) || VisibilityTimeout > MaxVisibilityTimeout)
        {
            throw new ArgumentOutOfRangeException(
                prefix + "visibility-timeout", VisibilityTimeout,
                $"{prefix}visibility-timeout must be 1 s to 43200 s (12 hours, the SQS limit), got {VisibilityTimeout.TotalSeconds:0.###} s");
        }

        if (PollingInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(prefix + "polling-interval", PollingInterval, $"{prefix}polling-interval must not be negative");
        }

        if (WaitTimeSeconds is < 0 or > 20)
        {
            throw new ArgumentOutOfRangeException(
                prefix + "wait-time-seconds", WaitTimeSeconds, $"{prefix}wait-time-seconds must be 0 to 20 (the SQS limit), got {WaitTimeSeconds}");
        }

        if (MaxDelay < TimeSpan.FromSeconds(1) || MaxDelay > MaxDelaySeconds)
        {
            throw new ArgumentOutOfRangeException(
                prefix + "max-delay", MaxDelay, $"{prefix}max-delay must be 1 s to 900 s (the SQS limit), got {MaxDelay.TotalSeconds:0.###} s");
        }

        if (MaxReceiveCount is < 0 or > 1000)
        {
            throw new ArgumentOutOfRangeException(
                prefix + "max-receive-count", MaxReceiveCount, $"{prefix}max-receive-count must be 0 (no redrive policy) to 1000, got {MaxReceiveCount}");
        }

        if (QueueNamePrefix.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')))
        {
            throw new ArgumentException(
                $"{prefix}queue-name-prefix may hold only letters, digits, '-' and '_', got '{QueueNamePrefix}'", prefix + "queue-name-prefix");
        }

        if (Endpoint.Length > 0 && !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"{prefix}endpoint must be an absolute URL such as http://127.0.0.1:9324, got '{Endpoint}'", prefix + "endpoint");
        }
    }
}
