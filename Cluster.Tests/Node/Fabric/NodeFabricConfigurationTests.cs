using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Node.Fabric;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>The fabric settings a worker node binds from its configuration, and what <c>conf</c> shows of it.</summary>
public sealed class NodeFabricConfigurationTests
{
    [Fact]
    public void Defaults_bind_to_the_default_records_and_conf_shows_nothing()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;

        var settings = NodeFabricConfiguration.Bind(configuration, "memory://x");

        Assert.Equal(new EventsSettings(), settings.Events);
        Assert.Equal(new ControlSettings(), settings.Control);
        Assert.Equal(new RevocationSettings(), settings.Revocation);
        Assert.Equal(new MingleSettings(), settings.Mingle);
        Assert.Empty(settings.Conf);
    }

    [Fact]
    public void Conf_lists_only_changed_keys_and_masks_a_broker_password()
    {
        var configuration = ClusterQueueConfiguration.Load(
            null,
            new Dictionary<string, string?>
            {
                ["cluster-queue.broker.url"] = "amqp://guest:secret@rabbit:5672//",
                ["cluster-queue.mingle.enabled"] = "false",
            },
            new Dictionary<string, string>()).Configuration;

        var settings = NodeFabricConfiguration.Bind(configuration, "amqp://guest:secret@rabbit:5672//");

        Assert.False(settings.Mingle.Enabled);
        Assert.Equal(["cluster-queue.broker.url", "cluster-queue.mingle.enabled"], settings.Conf.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("secret", settings.Conf["cluster-queue.broker.url"]!.ToJsonString());
    }
}
