namespace ClusterQueue.Protocol;

/// <summary>Task and group ids in the form Python's <c>str(uuid.uuid4())</c> gives.</summary>
public static class Uuid
{
    /// <summary>A random (version 4) UUID, lowercase, with hyphens: <c>512666b8-7b28-45ad-9596-971c97bfd8c3</c>.</summary>
    public static string NewId() => Guid.NewGuid().ToString("D");
}
