using ClusterQueue.Config;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;

namespace ClusterQueue.Tests.Transport.Amqp;

/// <summary>The <c>cluster-queue.broker.amqp</c> section binds into <see cref="AmqpSettings"/>, with reference.conf's defaults.</summary>
public sealed class AmqpSettingsTests
{
    [Fact]
    public void Defaults_come_from_reference_conf()
    {
        var broker = Load(new Dictionary<string, string>()).GetSettings<BrokerSettings>("broker");

        Assert.Equal(new AmqpSettings(), broker.Amqp);
        Assert.Equal("cluster-queue.dead-letter", broker.Amqp.DeadLetterExchange);
        Assert.Equal(TimeSpan.FromSeconds(120), broker.Heartbeat);
    }

    [Fact]
    public void Environment_overrides_reach_the_amqp_and_tls_settings()
    {
        var broker = Load(new Dictionary<string, string>
        {
            ["CQ_BROKER__AMQP__QUORUM_QUEUES"] = "true",
            ["CQ_BROKER__AMQP__MAX_PRIORITY"] = "10",
            ["CQ_BROKER__AMQP__CONFIRM_PUBLISH"] = "true",
            ["CQ_BROKER__AMQP__TLS__CA_FILE"] = "ca.pem",
        }).GetSettings<BrokerSettings>("broker");

        Assert.True(broker.Amqp.QuorumQueues);
        Assert.Equal(10, broker.Amqp.MaxPriority);
        Assert.True(broker.Amqp.ConfirmPublish);
        Assert.Equal("ca.pem", broker.Amqp.Tls.CaFile);
    }

    [Fact]
    public void Test_server_variables_are_not_read_as_settings()
    {
        var loaded = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>
        {
            ["CQ_TEST_AMQP_URL"] = "amqp://guest:guest@127.0.0.1:5672/",
            ["CQ_TEST_RABBITMQCTL"] = "/usr/lib/rabbitmq/bin/rabbitmqctl",
        });

        Assert.Empty(loaded.Warnings);
    }

    private static Microsoft.Extensions.Configuration.IConfiguration Load(Dictionary<string, string> environment) =>
        ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), environment).Configuration;
}
