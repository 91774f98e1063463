using ClusterQueue.Protocol;

namespace ClusterQueue.Client;

/// <summary>The <c>cluster-queue.publish</c> settings: how a client names, encodes and publishes task messages.</summary>
public sealed record PublishSettings
{
    /// <summary>Queue used when neither the call nor a route names one (Celery's task_default_queue).</summary>
    public string DefaultQueue { get; init; } = "celery";

    /// <summary>Exchange the default queue is bound to; it has the queue's name unless set (task_default_exchange).</summary>
    public string DefaultExchange { get; init; } = "celery";

    public string DefaultExchangeType { get; init; } = "direct";

    public string DefaultRoutingKey { get; init; } = "celery";

    /// <summary><c>persistent</c> or <c>transient</c> (task_default_delivery_mode).</summary>
    public string DefaultDeliveryMode { get; init; } = "persistent";

    /// <summary><c>json</c>, <c>msgpack</c>, <c>yaml</c> or <c>auth</c> (task_serializer); <c>pickle</c> is refused when the app is made.</summary>
    public string Serializer { get; init; } = "json";

    /// <summary><c>gzip</c>, <c>zlib</c>, <c>bzip2</c>, <c>brotli</c>, or empty for none (task_compression).</summary>
    public string? Compression { get; init; }

    /// <summary>Serializer names or content types a consumer decodes (accept_content); pickle may not be listed.</summary>
    public List<string> AcceptContent { get; init; } = ["json"];

    /// <summary>Key and certificates of the auth serializer; set exactly when the serializer and accept list are auth.</summary>
    public SecuritySettings Security { get; init; } = new();

    /// <summary>Largest task body accepted or sent, in bytes.</summary>
    public long MaxMessageSize { get; init; } = 16L * 1024 * 1024;

    /// <summary>Whether a publish that fails on a lost connection is retried under <see cref="RetryPolicy"/>.</summary>
    public bool Retry { get; init; } = true;

    public RetryPolicy RetryPolicy { get; init; } = RetryPolicy.Default;

    /// <summary>Routes tried in order; the first whose pattern matches the task name picks the queue.</summary>
    public List<TaskRoute> Routes { get; init; } = [];

    /// <summary>Publish a <c>task-sent</c> event for every task (task_send_sent_event).</summary>
    public bool SendSentEvent { get; init; }

    /// <summary>
    /// Checks the serializer, compression, accept list and security settings at start, naming the key: pickle in
    /// either is refused, and auth goes with an accept list of auth alone and readable key, certificate and store.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is unknown or names pickle; <see cref="ArgumentException.ParamName"/> is its key.</exception>
    public void Validate()
    {
        if (BodySerializers.EncodingProblem(Serializer) is { } problem)
        {
            throw new ArgumentException($"cluster-queue.publish.serializer: {problem}", "cluster-queue.publish.serializer");
        }

        if (!string.IsNullOrWhiteSpace(Compression))
        {
            try
            {
                BodyCompression.Resolve(Compression);
            }
            catch (UnsupportedCompressionException e)
            {
                throw new ArgumentException($"cluster-queue.publish.compression: {e.Message}", "cluster-queue.publish.compression", e);
            }
        }

        if (AcceptContent.Select(BodySerializers.ContentTypeOf).Contains(BodySerializers.Pickle))
        {
            throw new ArgumentException(
                $"cluster-queue.publish.accept-content names pickle: {BodySerializers.PickleRefusal}", "cluster-queue.publish.accept-content");
        }

        ValidateSecurity();
    }

    /// <summary>
    /// Celery's setup_security rules: signing only makes sense when every message is verified, so auth is the
    /// serializer and the whole accept list, and the security files are set exactly then.
    /// </summary>
    private void ValidateSecurity()
    {
        var signs = BodySerializers.ContentTypeOf(Serializer) == BodySerializers.Auth;
        var verifies = AcceptContent.Select(BodySerializers.ContentTypeOf).Contains(BodySerializers.Auth);
        if (!signs && !verifies && !Security.IsSet) return;
        if (!signs)
        {
            throw new ArgumentException(
                $"cluster-queue.publish.serializer must be auth when {(verifies ? "accept-content names auth" : "security is set")}, since messages are signed with auth",
                "cluster-queue.publish.serializer");
        }

        if (AcceptContent.Select(BodySerializers.ContentTypeOf).Distinct().Count() != 1 || !verifies)
        {
            throw new ArgumentException(
                $"cluster-queue.publish.accept-content must be [\"auth\"] with the auth serializer, so that no unsigned message is accepted (it is [{string.Join(", ", AcceptContent)}])",
                "cluster-queue.publish.accept-content");
        }

        // Read here so that a bad file fails at start naming its setting; the app reads its own copy when it is made.
        Security.Load();
    }
}

/// <summary>One entry of <c>cluster-queue.publish.routes</c>: a task pattern (exact, glob, or <c>re:</c> regex) and its queue.</summary>
public sealed record TaskRoute
{
    public string Task { get; init; } = "";

    public string Queue { get; init; } = "";
}
