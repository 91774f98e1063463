using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Tests.Config;

public enum SampleMode
{
    Default,
    Fair,
    RoundRobin,
}

public sealed record SampleRetry
{
    public int MaxRetries { get; init; }

    public TimeSpan IntervalStep { get; init; }
}

public sealed record SampleSettings
{
    public string Name { get; init; } = "";

    public int Concurrency { get; init; }

    public bool AcksLate { get; init; }

    public TimeSpan ShutdownTimeout { get; init; }

    public TimeSpan? TaskTimeLimit { get; init; }

    public ByteSize MaxMessageSize { get; init; }

    public long MaxBytes { get; init; }

    public SampleMode Optimization { get; init; }

    public IReadOnlyList<string> Queues { get; init; } = [];

    public string[] AcceptContent { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public SampleRetry RetryPolicy { get; init; } = new();

    public string? Compression { get; init; } = "unset";

    public double Ratio { get; init; } = 0.5;
}

public sealed record PositionalSettings(string Url, TimeSpan PollingInterval, IReadOnlyList<int> Ports, int Retries = 7);

public class SettingsBinderTests
{
    private const string Sample = """
        cluster-queue.sample {
          name = "celery@%h"
          concurrency = 8
          acks-late = yes
          shutdown-timeout = 2 minutes
          task-time-limit = 30s
          max-message-size = 64MiB
          max-bytes = 10 MB
          optimization = FAIR
          queues = [celery, video]
          accept-content = [json]
          labels { zone = a, "tier.name" = gold }
          retry-policy { max-retries = 5, interval-step = 200ms }
          compression = null
          unknown-extra = 1
        }
        """;

    private static IConfigurationRoot Build(string text, Dictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder().AddHoconString(text, "sample.conf");
        if (overrides is not null)
        {
            builder.Add(new CommandLineOverridesProvider(overrides));
        }

        return builder.Build();
    }

    [Fact]
    public void Record_BindsKebabKeysToPascalProperties_WithEveryValueKind()
    {
        var settings = Build(Sample).GetSettings<SampleSettings>("sample");
        Assert.Equal("celery@%h", settings.Name);
        Assert.Equal(8, settings.Concurrency);
        Assert.True(settings.AcksLate);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.TaskTimeLimit);
        Assert.Equal(new ByteSize(64L << 20), settings.MaxMessageSize);
        Assert.Equal(10_000_000, settings.MaxBytes);
        Assert.Equal(SampleMode.Fair, settings.Optimization);
        Assert.Equal(["celery", "video"], settings.Queues);
        Assert.Equal(["json"], settings.AcceptContent);
        Assert.Equal("gold", settings.Labels["tier.name"]);
        Assert.Equal(new SampleRetry { MaxRetries = 5, IntervalStep = TimeSpan.FromMilliseconds(200) }, settings.RetryPolicy);
        Assert.Equal("unset", settings.Compression);
        Assert.Equal(0.5, settings.Ratio);
    }

    [Fact]
    public void Enum_MatchesKebabCaseIgnoringCase()
    {
        var settings = Build("cluster-queue.sample.optimization = round-robin").GetSettings<SampleSettings>("sample");
        Assert.Equal(SampleMode.RoundRobin, settings.Optimization);
    }

    [Fact]
    public void List_FromACommaSeparatedOverride_ReplacesTheFileList()
    {
        var overrides = new Dictionary<string, string?> { ["cluster-queue.sample.queues"] = "a, b" };
        var settings = Build(Sample, overrides).GetSettings<SampleSettings>("sample");
        Assert.Equal(["a", "b"], settings.Queues);
    }

    [Fact]
    public void PositionalRecord_BindsConstructorParameters_AndUsesParameterDefaults()
    {
        var settings = Build("cluster-queue.broker { url = \"memory://\", polling-interval = 250ms, ports = [1, 2] }")
            .GetSettings<PositionalSettings>("broker");
        Assert.Equal(new PositionalSettings("memory://", TimeSpan.FromMilliseconds(250), settings.Ports, 7), settings);
        Assert.Equal([1, 2], settings.Ports);
    }

    [Fact]
    public void PositionalRecord_MissingRequiredValue_NamesTheKey()
    {
        var error = Assert.Throws<ConfigException>(() => Build("cluster-queue.broker { url = x, ports = [] }").GetSettings<PositionalSettings>("broker"));
        Assert.Equal("missing key cluster-queue.broker.polling-interval: expected a value of type TimeSpan", error.Message);
    }

    [Theory]
    [InlineData("concurrency = lots", "cluster-queue.sample.concurrency", "an integer", "lots", "sample.conf:1:38")]
    [InlineData("acks-late = maybe", "cluster-queue.sample.acks-late", "a boolean (true, false, yes, no, on, off)", "maybe", "sample.conf:1:36")]
    [InlineData("shutdown-timeout = soon", "cluster-queue.sample.shutdown-timeout", "a duration such as 30s, 500ms, 2 minutes or 1d", "soon", "sample.conf:1:43")]
    [InlineData("max-message-size = huge", "cluster-queue.sample.max-message-size", "a size such as 512, 64KiB, 1k or 10 MB", "huge", "sample.conf:1:43")]
    [InlineData("max-bytes = 10 XB", "cluster-queue.sample.max-bytes", "an integer or a size such as 64MiB", "10 XB", "sample.conf:1:36")]
    [InlineData("optimization = fast", "cluster-queue.sample.optimization", "one of default, fair, round-robin", "fast", "sample.conf:1:39")]
    [InlineData("retry-policy = 3", "cluster-queue.sample.retry-policy", "an object (sample-retry)", "3", "sample.conf:1:39")]
    [InlineData("concurrency { a = 1 }", "cluster-queue.sample.concurrency", "a value", "an object", null)]
    public void WrongType_NamesTheFullKeyTheExpectationAndTheValue(string field, string key, string expected, string found, string? origin)
    {
        var error = Assert.Throws<ConfigException>(() => Build($"cluster-queue.sample {{ {field} }}").GetSettings<SampleSettings>("sample"));
        var suffix = origin is null ? "" : $" (set by {origin})";
        Assert.Equal($"bad value for {key}: expected {expected} but found '{found}'{suffix}", error.Message);
        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void WrongType_FromAFlag_SaysSo()
    {
        var overrides = new Dictionary<string, string?> { ["cluster-queue.sample.concurrency"] = "many" };
        var error = Assert.Throws<ConfigException>(() => Build(Sample, overrides).GetSettings<SampleSettings>("sample"));
        Assert.Equal("bad value for cluster-queue.sample.concurrency: expected an integer but found 'many' (set by a command-line flag)", error.Message);
    }

    [Fact]
    public void WrongType_FromTheEnvironment_NamesTheVariable()
    {
        var configuration = ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string> { ["CQ_TELEMETRY__TRACES"] = "sometimes" }).Configuration;
        var error = Assert.Throws<ConfigException>(() => configuration.GetSettings<TelemetrySettings>("telemetry"));
        Assert.Equal("bad value for cluster-queue.telemetry.traces: expected a boolean (true, false, yes, no, on, off) but found 'sometimes' (set by environment variable CQ_TELEMETRY__TRACES)", error.Message);
    }

    [Fact]
    public void TypedGetters_ReadDurationsAndSizes_ByDottedPath()
    {
        var configuration = Build(Sample);
        Assert.Equal(TimeSpan.FromMinutes(2), configuration.GetDuration("cluster-queue.sample.shutdown-timeout"));
        Assert.Equal(new ByteSize(64L << 20), configuration.GetSize("cluster-queue:sample:max-message-size"));
        Assert.Null(configuration.GetDuration("cluster-queue.sample.absent"));
        var error = Assert.Throws<ConfigException>(() => configuration.GetDuration("cluster-queue.sample.name"));
        Assert.StartsWith("bad value for cluster-queue.sample.name: expected a duration", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PrefetchMultiplier", "prefetch-multiplier")]
    [InlineData("OtlpEndpoint", "otlp-endpoint")]
    [InlineData("TaskSoftTimeLimit", "task-soft-time-limit")]
    [InlineData("HTTPUrls", "http-urls")]
    [InlineData("Url", "url")]
    public void KebabCase_OfPascalNames(string pascal, string kebab)
    {
        Assert.Equal(kebab, SettingsBinder.ToKebabCase(pascal));
    }
}
