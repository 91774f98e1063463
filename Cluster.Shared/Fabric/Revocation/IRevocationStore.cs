namespace ClusterQueue.Fabric.Revocation;

/// <summary>Where a node keeps its revoked ids across restarts (Celery's <c>--statedb</c>).</summary>
public interface IRevocationStore : IDisposable
{
    /// <summary>Every stored id with its revocation time in epoch seconds.</summary>
    IReadOnlyList<(string Id, double RevokedAt)> Load();

    void Save(IReadOnlyCollection<(string Id, double RevokedAt)> entries);

    void Remove(IReadOnlyCollection<string> ids);
}
