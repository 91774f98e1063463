using ClusterQueue.Transport;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport;

public sealed class TransportRegistryTests
{
    [Fact]
    public void Broker_settings_defaults_match_the_reference_configuration()
    {
        var settings = new BrokerSettings();

        Assert.Equal("sqlite:///cluster-queue.db", settings.Url);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.PollingInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.VisibilityTimeout);
    }

    [Fact]
    public void Unknown_scheme_is_an_error_that_lists_the_supported_ones()
    {
        var error = Assert.Throws<BrokerUrlException>(() =>
            TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "redis://localhost:6379/0" }));

        Assert.Contains("'redis'", error.Message, StringComparison.Ordinal);
        Assert.Contains("memory://, sqlite://", error.Message, StringComparison.Ordinal);
        Assert.Equal("redis://localhost:6379/0", error.Url);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("cluster-queue.db", "scheme://")]
    [InlineData("://nothing", "scheme://")]
    [InlineData("1x://a", "not a valid URL scheme")]
    [InlineData("sqlite://host/file.db", "takes no host")]
    [InlineData("memory://bad/name", "not a memory broker name")]
    public void Malformed_urls_are_errors_that_say_what_is_wrong(string url, string expected)
    {
        var error = Assert.Throws<BrokerUrlException>(() => TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = url }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_positive_durations_are_refused_naming_the_setting()
    {
        var registry = TransportRegistry.CreateDefault();

        var polling = Assert.Throws<ArgumentOutOfRangeException>(() =>
            registry.Open(new BrokerSettings { Url = "memory://", PollingInterval = TimeSpan.Zero }));
        var visibility = Assert.Throws<ArgumentOutOfRangeException>(() =>
            registry.Open(new BrokerSettings { Url = "memory://", VisibilityTimeout = TimeSpan.FromSeconds(-1) }));

        Assert.Contains("cluster-queue.broker.polling-interval", polling.Message, StringComparison.Ordinal);
        Assert.Contains("cluster-queue.broker.visibility-timeout", visibility.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite:///", "cluster-queue.db")]
    [InlineData("sqlite:///data/broker.db", "data/broker.db")]
    [InlineData("sqlite:////var/lib/cq/broker.db", "/var/lib/cq/broker.db")]
    [InlineData("SQLITE:///x.db", "x.db")]
    public void Sqlite_urls_take_three_slashes_then_the_path(string url, string path)
    {
        var parsed = BrokerUrl.Parse(url);

        Assert.Equal("sqlite", parsed.Scheme);
        Assert.Equal(path, parsed.SqlitePath());
    }

    [Fact]
    public async Task Named_memory_brokers_are_shared_in_the_process_and_unnamed_ones_are_private()
    {
        var registry = TransportRegistry.CreateDefault();
        var name = "shared-" + Guid.NewGuid().ToString("N");
        await using var publisher = registry.Open(new BrokerSettings { Url = $"memory://{name}" });
        await using var consumerSide = registry.Open(new BrokerSettings { Url = $"memory://{name}" });
        await using var privateOne = registry.Open(new BrokerSettings { Url = "memory://" });
        await using var privateTwo = registry.Open(new BrokerSettings { Url = "memory://" });

        await publisher.DeclareQueueAsync(new QueueDeclaration("q"));
        await publisher.PublishAsync("", "q", Message("across"));
        await using var consumer = await consumerSide.ConsumeAsync("q", new ConsumeOptions());
        await privateOne.DeclareQueueAsync(new QueueDeclaration("q"));

        Assert.Equal("across", (await consumer.NextAsync()).Text());
        await Assert.ThrowsAsync<QueueNotFoundException>(async () => await privateTwo.ConsumeAsync("q", new ConsumeOptions()));
    }
}
