using ClusterQueue.Protocol;

namespace ClusterQueue.Transport.Virtual;

/// <summary>A message about to be put on one queue. Times are Unix milliseconds.</summary>
internal sealed record NewMessage(
    string Queue,
    Envelope Message,
    string Exchange,
    string RoutingKey,
    byte Priority,
    long VisibleAtMs,
    long? ExpiresAtMs);

/// <summary>A message taken from a queue by a consumer.</summary>
internal sealed record StoredMessage(
    long Id,
    string Queue,
    Envelope Message,
    string Exchange,
    string RoutingKey,
    bool Redelivered);
