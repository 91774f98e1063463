using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Tests.Transport.Sqs;

/// <summary>The private SQS server that test.sh starts, and settings that give each test queues of its own by prefix.</summary>
internal static class SqsTestServer
{
    public const string Trait = "SQS";

    /// <summary>The endpoint from CQ_TEST_SQS_ENDPOINT; a missing one fails the test, since a skipped test proves nothing.</summary>
    public static string Endpoint => Environment.GetEnvironmentVariable("CQ_TEST_SQS_ENDPOINT") is { Length: > 0 } endpoint
        ? endpoint
        : throw new InvalidOperationException(
            "CQ_TEST_SQS_ENDPOINT is not set: run the tests through ./test.sh, which starts a private SQS server and sets it");

    /// <summary>A queue-name prefix no other test uses, as the AMQP tests take a vhost each.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10] + "-";

    /// <summary>Short waits, so a test never sits in a long poll or a visibility timeout for long.</summary>
    public static SqsSettings Sqs(string prefix) => new()
    {
        Endpoint = Endpoint,
        QueueNamePrefix = prefix,
        AccessKeyId = "test",
        SecretAccessKey = "test",
        VisibilityTimeout = TimeSpan.FromSeconds(10),
        WaitTimeSeconds = 1,
        PollingInterval = TimeSpan.Zero,
    };

    public static BrokerSettings Settings(string prefix, Func<SqsSettings, SqsSettings>? change = null) => new()
    {
        Url = "sqs://",
        Sqs = change is null ? Sqs(prefix) : change(Sqs(prefix)),
    };

    /// <summary>A bare AWSSDK.SQS client on the server, to look at queues as SQS holds them.</summary>
    public static Amazon.SQS.AmazonSQSClient RawClient() => new(
        new Amazon.Runtime.BasicAWSCredentials("test", "test"),
        new Amazon.SQS.AmazonSQSConfig { ServiceURL = Endpoint, AuthenticationRegion = "us-east-1" });

    public static SqsTransport Open(string prefix, Func<SqsSettings, SqsSettings>? change = null) =>
        (SqsTransport)TransportRegistry.CreateDefault().Open(Settings(prefix, change));
}
