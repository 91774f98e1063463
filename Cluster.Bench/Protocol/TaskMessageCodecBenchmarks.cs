using BenchmarkDotNet.Attributes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Bench.Protocol;

/// <summary>Encode and decode cost of the smallest real task, <c>tasks.add(2, 2)</c>, as a Celery client sends it.</summary>
[MemoryDiagnoser]
public class TaskMessageCodecBenchmarks
{
    private readonly TaskMessageCodec codec = new();
    private TaskMessage message = null!;
    private Envelope envelope = null!;

    [GlobalSetup]
    public void Setup()
    {
        message = new TaskMessage
        {
            Task = "tasks.add",
            Id = "512666b8-7b28-45ad-9596-971c97bfd8c3",
            Args = [2, 2],
            ReplyTo = "9926f65a-ead6-3806-b724-5ccf38b68a5f",
            Origin = "gen9612@vm",
        };
        envelope = codec.Encode(message);
    }

    [Benchmark]
    public Envelope Encode() => codec.Encode(message);

    [Benchmark]
    public TaskMessage Decode() => codec.Decode(envelope);
}
