using BenchmarkDotNet.Attributes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Transport;

namespace ClusterQueue.Bench.Fabric;

/// <summary>A ping broadcast to 1, 10 and 50 in-process pidbox nodes on the memory broker, timed until every reply has arrived.</summary>
[MemoryDiagnoser]
public class PidboxRoundTripBenchmarks
{
    private ITransport _transport = null!;
    private List<PidboxNode> _nodes = null!;
    private PidboxClient _client = null!;

    [Params(1, 10, 50)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        _nodes = [];
        for (var i = 0; i < Nodes; i++)
        {
            var node = new PidboxNode(_transport, $"node{i}@bench", new ControlHandlerRegistry([FabricControlHandlers.Ping()]));
            node.StartAsync().GetAwaiter().GetResult();
            _nodes.Add(node);
        }

        _client = new PidboxClient(_transport);
        PingAll().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var node in _nodes) node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One broadcast; returns when all <see cref="Nodes"/> replies are in.</summary>
    [Benchmark]
    public async Task<int> PingAll()
    {
        var replies = await _client.PingAsync(timeout: TimeSpan.FromSeconds(30), limit: Nodes);
        return replies.Count == Nodes ? replies.Count : throw new InvalidOperationException($"only {replies.Count} of {Nodes} nodes replied");
    }
}
