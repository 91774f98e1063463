namespace ClusterQueue.Tests.Interop;

/// <summary>Python processes are heavy on a two-core machine: the interop tests run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class InteropCollection
{
    public const string Name = "python interop";
}
