using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Tests.Config;

public class ReferenceConfTests
{
    public static TheoryData<string, string?> CeleryDefaults => new()
    {
        { "cluster-queue.node.name", "celery@%h" },
        { "cluster-queue.node.concurrency", "0" },
        { "cluster-queue.node.prefetch-multiplier", "4" },
        { "cluster-queue.node.optimization", "default" },
        { "cluster-queue.node.acks-late", "false" },
        { "cluster-queue.node.reject-on-worker-lost", "false" },
        { "cluster-queue.node.max-tasks-per-child", "0" },
        { "cluster-queue.node.autoscale.min", "0" },
        { "cluster-queue.node.autoscale.max", "0" },
        { "cluster-queue.node.autoscale.keepalive", "30s" },
        { "cluster-queue.node.state-db", "cluster-queue-state.db" },
        { "cluster-queue.node.send-task-events", "false" },
        { "cluster-queue.node.task-time-limit", "0" },
        { "cluster-queue.node.task-soft-time-limit", "0" },
        { "cluster-queue.node.eta-horizon", "1s" },
        { "cluster-queue.node.pool", "threads" },
        { "cluster-queue.broker.url", "sqlite:///cluster-queue.db" },
        { "cluster-queue.broker.polling-interval", "100ms" },
        { "cluster-queue.broker.visibility-timeout", "30s" },
        { "cluster-queue.broker.heartbeat", "120s" },
        { "cluster-queue.broker.connection-retry", "true" },
        { "cluster-queue.broker.connection-max-retries", "100" },
        { "cluster-queue.broker.connection-timeout", "4s" },
        { "cluster-queue.broker.sqs.region", "us-east-1" },
        { "cluster-queue.broker.sqs.endpoint", "" },
        { "cluster-queue.broker.sqs.queue-name-prefix", "" },
        { "cluster-queue.broker.sqs.wait-time-seconds", "20" },
        { "cluster-queue.broker.sqs.visibility-timeout", "30s" },
        { "cluster-queue.broker.sqs.polling-interval", "1s" },
        { "cluster-queue.broker.sqs.max-delay", "900s" },
        { "cluster-queue.broker.sqs.max-receive-count", "0" },
        { "cluster-queue.publish.serializer", "json" },
        { "cluster-queue.publish.compression", null },
        { "cluster-queue.publish.default-queue", "celery" },
        { "cluster-queue.publish.default-exchange", "celery" },
        { "cluster-queue.publish.default-exchange-type", "direct" },
        { "cluster-queue.publish.default-routing-key", "celery" },
        { "cluster-queue.publish.default-delivery-mode", "persistent" },
        { "cluster-queue.publish.retry", "true" },
        { "cluster-queue.publish.retry-policy.max-retries", "3" },
        { "cluster-queue.publish.retry-policy.interval-start", "0" },
        { "cluster-queue.publish.retry-policy.interval-step", "200ms" },
        { "cluster-queue.publish.retry-policy.interval-max", "200ms" },
        { "cluster-queue.publish.send-sent-event", "false" },
        { "cluster-queue.result.backend", "sqlite:///cluster-queue-results.db" },
        { "cluster-queue.result.expires", "1d" },
        { "cluster-queue.result.persistent", "false" },
        { "cluster-queue.result.sweep-interval", "1h" },
        { "cluster-queue.result.extended", "false" },
        { "cluster-queue.task.default-rate-limit", null },
        { "cluster-queue.task.track-started", "false" },
        { "cluster-queue.task.ignore-result", "false" },
        { "cluster-queue.task.track-started", "false" },
        { "cluster-queue.events.enabled", "false" },
        { "cluster-queue.events.heartbeat-interval", "2s" },
        { "cluster-queue.events.exchange", "celeryev" },
        { "cluster-queue.events.queue-ttl", "5s" },
        { "cluster-queue.events.queue-expires", "60s" },
        { "cluster-queue.control.exchange", "celery" },
        { "cluster-queue.control.queue-ttl", "300s" },
        { "cluster-queue.control.queue-expires", "10s" },
        { "cluster-queue.control.reply-timeout", "1s" },
        { "cluster-queue.revocation.max-ids", "50000" },
        { "cluster-queue.revocation.expires", "3h" },
        { "cluster-queue.mingle.enabled", "true" },
        { "cluster-queue.mingle.timeout", "1s" },
        { "cluster-queue.monitor.listen", "127.0.0.1:5555" },
        { "cluster-queue.monitor.max-tasks", "10000" },
        { "cluster-queue.monitor.event-buffer", "10000" },
        { "cluster-queue.monitor.subscriber-queue", "1000" },
        { "cluster-queue.monitor.token", "" },
    };

    [Theory]
    [MemberData(nameof(CeleryDefaults))]
    public void Default_MatchesCeleryOrTheAgreedValue(string key, string? expected)
    {
        Assert.Equal(expected, ReferenceConf.Default(key));
    }

    [Theory]
    [InlineData("node", new[] { "shutdown-timeout", "queues" })]
    [InlineData("broker", new[] { "amqp.quorum-queues", "amqp.max-priority", "amqp.dead-letter-exchange", "amqp.confirm-publish", "amqp.tls.enabled", "amqp.tls.ca-file", "amqp.tls.cert-file", "amqp.tls.key-file", "sqs.access-key-id", "sqs.secret-access-key" })]
    [InlineData("publish", new[] { "serializer", "accept-content", "compression", "max-message-size", "routes" })]
    [InlineData("task", new[] { "default-rate-limit", "track-started", "ignore-result" })]
    [InlineData("beat", new[] { "schedule", "state-db", "state-postgres", "max-interval", "catch-up", "hand-over-retry-interval" })]
    [InlineData("telemetry", new[] { "traces", "metrics", "otlp-endpoint" })]
    public void Section_DeclaresTheAgreedKeys(string section, string[] keys)
    {
        Assert.All(keys, key => Assert.Contains(key, ReferenceConf.Keys(section)));
    }

    [Fact]
    public void Lists_DefaultToCelerysQueueAndContentType()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;
        Assert.Equal(["celery"], configuration.GetSection("cluster-queue:node:queues").GetChildren().Select(c => c.Value));
        Assert.Equal(["json"], configuration.GetSection("cluster-queue:publish:accept-content").GetChildren().Select(c => c.Value));
    }

    [Fact]
    public void EverySetting_IsDocumentedByTheLineAboveIt()
    {
        var lines = ClusterQueueConfiguration.ReferenceText().Split('\n').Select(l => l.Trim()).ToArray();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var isSetting = line.Length > 0 && !line.StartsWith('#') && !line.StartsWith('}') && line.Contains('=')
                && !line.Contains("${?", StringComparison.Ordinal);
            if (isSetting && !lines[i - 1].StartsWith('#') && !lines[i - 1].EndsWith('{'))
            {
                Assert.Fail($"reference.conf line {i + 1} has no comment above it: {line}");
            }
        }
    }

    [Fact]
    public void ExampleFiles_LoadWithoutWarnings()
    {
        var hocon = FindHoconFolder();
        foreach (var name in new[] { "node.conf", "monitor.conf" })
        {
            var loaded = ClusterQueueConfiguration.Load(Path.Combine(hocon, name), new Dictionary<string, string?>(), new Dictionary<string, string>());
            Assert.Empty(loaded.Warnings);
        }
    }

    [Fact]
    public void TelemetrySettings_BindTheDefaults()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration;
        Assert.Equal(new TelemetrySettings(), configuration.GetSettings<TelemetrySettings>("telemetry"));
    }

    internal static string FindHoconFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "hocon");
            if (File.Exists(Path.Combine(candidate, "reference.conf")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("no hocon folder above the test binaries");
    }
}
