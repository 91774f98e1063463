using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class ClusterQueueConfigurationTests
{
    private const string Concurrency = "cluster-queue:node:concurrency";
    private const string Prefetch = "cluster-queue:node:prefetch-multiplier";
    private const string Pool = "cluster-queue:node:pool";

    private static readonly Dictionary<string, string?> NoFlags = [];

    [Fact]
    public void Layers_ReferenceThenFileThenEnvironmentThenFlags_LastWins()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.node { concurrency = 2, prefetch-multiplier = 2, pool = file }");
        var environment = new Dictionary<string, string> { ["CQ_NODE__PREFETCH_MULTIPLIER"] = "3", ["CQ_NODE__POOL"] = "env" };
        var flags = new Dictionary<string, string?> { ["cluster-queue.node.pool"] = "flag" };

        var configuration = ClusterQueueConfiguration.Load(file, flags, environment).Configuration;

        Assert.Equal("0", ClusterQueueConfiguration.Load(null, NoFlags, new Dictionary<string, string>()).Configuration[Concurrency]);
        Assert.Equal("2", configuration[Concurrency]);
        Assert.Equal("3", configuration[Prefetch]);
        Assert.Equal("flag", configuration[Pool]);
        Assert.Equal("false", configuration["cluster-queue:node:acks-late"]);
    }

    [Fact]
    public void UserFile_CanReferToDefaults_AndExtendLists()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.node { queues += video, name = ${cluster-queue.events.exchange}\"-node\" }");
        var configuration = ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string>()).Configuration;
        Assert.Equal(["celery", "video"], configuration.GetSection("cluster-queue:node:queues").GetChildren().Select(c => c.Value));
        Assert.Equal("celeryev-node", configuration["cluster-queue:node:name"]);
    }

    [Fact]
    public void UserFile_Substitutions_ReadTheGivenEnvironment()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.broker.url = ${?BROKER}");
        var configuration = ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string> { ["BROKER"] = "memory://" }).Configuration;
        Assert.Equal("memory://", configuration["cluster-queue:broker:url"]);
    }

    [Theory]
    [InlineData("CQ_NODE__CONCURRENCY", "cluster-queue:node:concurrency")]
    [InlineData("CQ_NODE__PREFETCH_MULTIPLIER", "cluster-queue:node:prefetch-multiplier")]
    [InlineData("CQ_BROKER__AMQP__TLS__CA_FILE", "cluster-queue:broker:amqp:tls:ca-file")]
    [InlineData("CQ_NODE__QUEUES__1", "cluster-queue:node:queues:1")]
    [InlineData("CQ_", null)]
    [InlineData("CQ_NODE____X", null)]
    [InlineData("CQ__NODE", null)]
    [InlineData("OTHER_NODE", null)]
    public void EnvironmentNames_MapOntoClusterQueueKeys(string variable, string? key)
    {
        Assert.Equal(key, ClusterQueueEnvironmentProvider.KeyFor(variable));
    }

    [Fact]
    public void MalformedEnvironmentName_IsAWarning_NotASilentLoss()
    {
        var loaded = ClusterQueueConfiguration.Load(null, NoFlags, new Dictionary<string, string> { ["CQ_NODE____X"] = "1" });
        Assert.Equal(["ignored environment variable CQ_NODE____X: expected a name such as CQ_NODE__PREFETCH_MULTIPLIER"], loaded.Warnings);
    }

    [Fact]
    public void UnknownKey_InFile_WarnsWithTheNearestKnownKey()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.node.concurency = 4\ncluster-queue.broker.amqp.tls.ca-fil = x\nother.thing = 1");
        var loaded = ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string>());
        Assert.Equal(
            [
                "unknown key cluster-queue.broker.amqp.tls.ca-fil; did you mean cluster-queue.broker.amqp.tls.ca-file?",
                "unknown key cluster-queue.node.concurency; did you mean cluster-queue.node.concurrency?",
            ],
            loaded.Warnings);
    }

    [Fact]
    public void UnknownKey_FromEnvironmentOrFlag_AlsoWarns()
    {
        var loaded = ClusterQueueConfiguration.Load(
            null,
            new Dictionary<string, string?> { ["cluster-queue.result.expire"] = "1h" },
            new Dictionary<string, string> { ["CQ_EVENTS__ENABLE"] = "true" });
        Assert.Equal(
            [
                "unknown key cluster-queue.events.enable; did you mean cluster-queue.events.enabled?",
                "unknown key cluster-queue.result.expire; did you mean cluster-queue.result.expires?",
            ],
            loaded.Warnings);
    }

    [Fact]
    public void UnknownKey_WithNullValue_StillWarns()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.node.pol = null");
        var loaded = ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string>());
        Assert.Equal(["unknown key cluster-queue.node.pol; did you mean cluster-queue.node.pool?"], loaded.Warnings);
    }

    [Fact]
    public void KeysUnderOpenSections_AreKnown()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue.publish.routes = [{ task = \"tasks.*\", queue = video }]\ncluster-queue.node.queues = [a, b, c]");
        Assert.Empty(ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string>()).Warnings);
    }

    [Fact]
    public void MissingUserFile_IsAConfigErrorNamingIt()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "nope.conf");
        var error = Assert.Throws<ConfigException>(() => ClusterQueueConfiguration.Load(missing, NoFlags, new Dictionary<string, string>()));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseErrorInUserFile_NamesFileLineAndColumn()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue {\n  node.concurrency = \"8\n}");
        var error = Assert.Throws<ConfigException>(() => ClusterQueueConfiguration.Load(file, NoFlags, new Dictionary<string, string>()));
        Assert.Equal((file, 2, 22), (error.File, error.Line, error.Column));
    }

    [Theory]
    [InlineData("cluster-queue:broker:sqs:secret-access-key", "abc", "****")]
    [InlineData("cluster-queue:monitor:state-postgres", "Host=db;Username=cq;Password=p4ss;Database=cq", "Host=db;Username=cq;Password=****;Database=cq")]
    [InlineData("cluster-queue:db:password", "abc", "****")]
    [InlineData("cluster-queue:broker:url", "amqp://guest:pw@host:5672//", "amqp://guest:****@host:5672//")]
    [InlineData("cluster-queue:broker:url", "amqp://host:5672//", "amqp://host:5672//")]
    [InlineData("cluster-queue:publish:default-routing-key", "celery", "celery")]
    [InlineData("cluster-queue:broker:sqs:secret-access-key", "", "")]
    public void Printer_MasksPasswordLikeValues(string key, string value, string shown)
    {
        Assert.Equal(shown, ConfigurationPrinter.MaskValue(key, value));
    }

    [Fact]
    public void Printer_ShowsAListOverriddenByOneValue_AsThatValue()
    {
        var loaded = ClusterQueueConfiguration.Load(null, NoFlags, new Dictionary<string, string> { ["CQ_NODE__QUEUES"] = "a,b" });
        var text = ConfigurationPrinter.ToHocon(loaded.Configuration.GetSection(ClusterQueueConfiguration.RootPath));
        Assert.Contains("    queues = \"a,b\"\n", text, StringComparison.Ordinal);
    }
}
