using Akka.Actor;
using Akka.DistributedData;
using ClusterQueue.Fabric.Revocation;
using AkkaCluster = Akka.Cluster.Cluster;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// Revoked ids as replicated state: an <c>LWWDictionary</c> of id to revoke time (epoch ms) in Akka.DistributedData,
/// kept durable by <see cref="SqliteDurableStore"/> and gossiped to every member, so a node that was away learns the
/// revokes made meanwhile. The node's <see cref="RevokedTaskSet"/> stays the fast local lookup; this store is what it
/// writes through to, and what it is refilled from as gossip arrives.
/// </summary>
public sealed class ReplicatedRevocationStore : IRevocationStore
{
    /// <summary>The replicated key; reference.conf lists it as durable.</summary>
    public static readonly LWWDictionaryKey<string, long> Key = new("cluster-queue-revoked");

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem system;
    private readonly IActorRef replicator;
    private readonly AkkaCluster cluster;
    private readonly IReadOnlyList<(string Id, double RevokedAt)> loaded;
    private IActorRef? subscriber;

    private ReplicatedRevocationStore(ActorSystem system, IReadOnlyList<(string, double)> loaded)
    {
        this.system = system;
        replicator = DistributedData.Get(system).Replicator;
        cluster = AkkaCluster.Get(system);
        this.loaded = loaded;
    }

    /// <summary>
    /// Reads what a majority of members hold (this node's durable copy included), so that a starting node knows every
    /// revoke before its first task; when no majority answers within <paramref name="syncTimeout"/>, it starts from its
    /// own copy and gossip fills in the rest.
    /// </summary>
    public static async Task<ReplicatedRevocationStore> OpenAsync(ActorSystem system, TimeSpan syncTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(system);
        var replicator = DistributedData.Get(system).Replicator;
        var response = await replicator.Ask<IGetResponse>(Dsl.Get(Key, new ReadMajority(syncTimeout)), syncTimeout + WriteTimeout, cancellationToken).ConfigureAwait(false);
        if (response is GetFailure)
        {
            response = await replicator.Ask<IGetResponse>(Dsl.Get(Key, ReadLocal.Instance), WriteTimeout, cancellationToken).ConfigureAwait(false);
        }

        var entries = response is GetSuccess success ? Entries(success.Get(Key)) : [];
        return new ReplicatedRevocationStore(system, entries);
    }

    public IReadOnlyList<(string Id, double RevokedAt)> Load() => loaded;

    /// <summary>Writes locally and waits until the durable store has it, so an acknowledged revoke survives a crash; gossip spreads it.</summary>
    public void Save(IReadOnlyCollection<(string Id, double RevokedAt)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return;
        var self = cluster.SelfUniqueAddress;
        Write(map => entries.Aggregate(map, (m, e) => m.SetItem(self, e.Id, (long)Math.Round(e.RevokedAt * 1000))));
    }

    /// <summary>
    /// Drops expired or evicted ids without waiting: a removal lost in a crash costs nothing, since the ids are purged
    /// again when loaded. So only a revoke waits on the replicator, and expiry inside a command never does.
    /// </summary>
    public void Remove(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return;
        var self = cluster.SelfUniqueAddress;
        replicator.Tell(Dsl.Update(Key, LWWDictionary<string, long>.Empty, WriteLocal.Instance, map => ids.Where(map.ContainsKey).Aggregate(map, (m, id) => m.Remove(self, id))));
    }

    /// <summary>Merges every replicated change into <paramref name="revoked"/> from now on.</summary>
    public void Follow(RevokedTaskSet revoked)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        subscriber ??= system.ActorOf(Props.Create(() => new Follower(revoked)), "revocations");
    }

    public void Dispose()
    {
        // The follower stops with the actor system; stopping it here keeps a disposed set from being written.
        if (subscriber is not null) system.Stop(subscriber);
    }

    private static IReadOnlyList<(string Id, double RevokedAt)> Entries(LWWDictionary<string, long> map) =>
        [.. map.Entries.Select(e => (e.Key, e.Value / 1000.0)).OrderBy(e => e.Item2)];

    private void Write(Func<LWWDictionary<string, long>, LWWDictionary<string, long>> modify)
    {
        var update = Dsl.Update(Key, LWWDictionary<string, long>.Empty, WriteLocal.Instance, modify);
        var response = replicator.Ask<IUpdateResponse>(update, WriteTimeout).GetAwaiter().GetResult();
        if (response is not UpdateSuccess)
        {
            throw new IOException($"the revoked set could not be stored: {response}");
        }
    }

    /// <summary>Subscribed to the key; each change the replicator applies, local or gossiped, lands in the node's set.</summary>
    private sealed class Follower : ReceiveActor
    {
        private readonly RevokedTaskSet revoked;

        public Follower(RevokedTaskSet revoked)
        {
            this.revoked = revoked;
            Receive<Changed>(changed => this.revoked.MergeReplicated(Entries(changed.Get(Key))));
        }

        protected override void PreStart() => DistributedData.Get(Context.System).Replicator.Tell(Dsl.Subscribe(Key, Self));
    }
}
