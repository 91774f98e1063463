using System.Collections.Concurrent;

namespace ClusterQueue.Transport.Memory;

/// <summary>The named in-process brokers: every <c>memory://name</c> in one process reaches the same one.</summary>
internal static class MemoryBrokers
{
    private static readonly ConcurrentDictionary<string, MemoryMessageStore> Named = new(StringComparer.Ordinal);

    /// <summary>A named broker lives as long as the process; an unnamed one belongs to the transport that opened it.</summary>
    public static MemoryMessageStore Get(string? name) =>
        string.IsNullOrEmpty(name) ? new MemoryMessageStore() : Named.GetOrAdd(name, _ => new MemoryMessageStore());
}
