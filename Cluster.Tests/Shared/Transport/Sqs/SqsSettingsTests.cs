using ClusterQueue.Config;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Tests.Transport.Sqs;

/// <summary>SQS names, URLs and settings as Celery and kombu spell them; no server needed.</summary>
public sealed class SqsSettingsTests
{
    [Theory]
    [InlineData("", "celery", "celery")]
    [InlineData("prod-", "celery", "prod-celery")]
    [InlineData("", "video.encode", "video-encode")]
    [InlineData("", "celery.dlq", "celery-dlq")]
    [InlineData("", "a:b/c@d", "a_b_c_d")]
    [InlineData("", "jobs.fifo", "jobs.fifo")]
    [InlineData("", "my.jobs.fifo", "my-jobs.fifo")]
    [InlineData("", "keep_under-score", "keep_under-score")]
    public void Queue_names_are_mapped_as_kombu_maps_them(string prefix, string queue, string expected)
    {
        Assert.Equal(expected, SqsTransport.QueueName(prefix, queue));
    }

    [Theory]
    [InlineData("sqs://", "", "", "")]
    [InlineData("sqs://AKIA:s3cret@", "AKIA", "s3cret", "")]
    [InlineData("sqs://AKIA:a%2Fb%2Bc@", "AKIA", "a/b+c", "")]
    [InlineData("sqs://k:s@localhost:9324", "k", "s", "http://localhost:9324")]
    [InlineData("sqs://k:s@127.0.0.1:4566/", "k", "s", "http://127.0.0.1:4566")]
    public void The_url_gives_credentials_and_kombus_endpoint(string url, string key, string secret, string endpoint)
    {
        Assert.Equal((key, secret, endpoint), BrokerUrl.Parse(url).SqsParts());
    }

    [Theory]
    [InlineData("sqs://onlykey@", "KEY:SECRET@")]
    [InlineData("sqs://k:s@host/path", "no path")]
    [InlineData("sqs://k:s@host?region=x", "no path or query")]
    public void A_malformed_sqs_url_names_what_is_wrong(string url, string expected)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerUrl.Parse(url).SqsParts());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_celerys()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;
        var sqs = configuration.GetSettings<BrokerSettings>("broker").Sqs;

        Assert.Equal("us-east-1", sqs.Region);
        Assert.Equal(TimeSpan.FromSeconds(30), sqs.VisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), sqs.PollingInterval);
        Assert.Equal(20, sqs.WaitTimeSeconds);
        Assert.Equal("", sqs.QueueNamePrefix);
        Assert.Equal(TimeSpan.FromSeconds(900), sqs.MaxDelay);
    }

    [Fact]
    public void The_endpoint_can_come_from_AWS_ENDPOINT_URL_SQS()
    {
        var environment = new Dictionary<string, string> { ["AWS_ENDPOINT_URL_SQS"] = "http://127.0.0.1:9324" };
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), environment).Configuration;

        Assert.Equal("http://127.0.0.1:9324", configuration.GetSettings<BrokerSettings>("broker").Sqs.Endpoint);
    }

    [Theory]
    [InlineData("visibility-timeout", 43_201.0, "43200")]
    [InlineData("visibility-timeout", 0.0, "43200")]
    [InlineData("max-delay", 901.0, "900")]
    public void Durations_beyond_what_SQS_accepts_name_the_key_and_the_limit(string key, double seconds, string limit)
    {
        var settings = key == "visibility-timeout"
            ? new SqsSettings { VisibilityTimeout = TimeSpan.FromSeconds(seconds) }
            : new SqsSettings { MaxDelay = TimeSpan.FromSeconds(seconds) };

        var error = Assert.ThrowsAny<ArgumentException>(settings.Validate);

        Assert.Equal("cluster-queue.broker.sqs." + key, error.ParamName);
        Assert.Contains(limit, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(-1)]
    public void A_long_poll_wait_beyond_20_seconds_is_refused(int seconds)
    {
        var error = Assert.ThrowsAny<ArgumentException>(new SqsSettings { WaitTimeSeconds = seconds }.Validate);
        Assert.Contains("0 to 20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rpc_results_with_an_sqs_broker_are_refused_naming_why()
    {
        var error = Assert.Throws<ClusterQueue.Results.UnsupportedResultBackendException>(() => ClusterQueue.Client.ClusterQueueApp.Open(
            new BrokerSettings { Url = "sqs://k:s@127.0.0.1:1" },
            new ClusterQueue.Results.ResultSettings { Backend = "rpc://" }));

        Assert.Contains("reply queue", error.Message, StringComparison.Ordinal);
        Assert.Contains("nobody ever deletes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jobs.fifo", "FIFO queues are not supported")]
    [InlineData("caf\u00e9", "which SQS refuses")]
    public async Task Queues_that_sqs_would_refuse_are_refused_before_any_request_naming_why(string queue, string expected)
    {
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "sqs://k:s@127.0.0.1:1" });

        var error = await Assert.ThrowsAsync<PreconditionFailedException>(async () => await transport.DeclareQueueAsync(new QueueDeclaration(queue)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(queue, error.Message, StringComparison.Ordinal);
    }
}
