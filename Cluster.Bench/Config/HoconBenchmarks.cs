using BenchmarkDotNet.Attributes;
using ClusterQueue.Config;

namespace ClusterQueue.Bench.Config;

/// <summary>Cost of reading configuration at node start-up: parsing reference.conf, loading every layer, binding one record.</summary>
[MemoryDiagnoser]
public class HoconBenchmarks
{
    private readonly Dictionary<string, string?> _flags = new() { ["cluster-queue.node.concurrency"] = "4" };
    private readonly Dictionary<string, string> _environment = new() { ["CQ_NODE__PREFETCH_MULTIPLIER"] = "8" };
    private string _reference = "";
    private Microsoft.Extensions.Configuration.IConfigurationRoot _loaded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _reference = ClusterQueueConfiguration.ReferenceText();
        _loaded = ClusterQueueConfiguration.Load(null, _flags, _environment).Configuration;
    }

    [Benchmark]
    public HoconObject ParseReferenceConf() => HoconReader.Parse(_reference, "reference.conf", _ => null);

    [Benchmark]
    public int LoadAllLayers() => ClusterQueueConfiguration.Load(null, _flags, _environment).Warnings.Count;

    [Benchmark]
    public TelemetrySettings BindTelemetrySettings() => _loaded.GetSettings<TelemetrySettings>("telemetry");
}
