namespace ClusterQueue.Config;

/// <summary>OpenTelemetry settings, bound from <c>cluster-queue.telemetry</c>.</summary>
public sealed record TelemetrySettings
{
    public bool Traces { get; init; }

    public bool Metrics { get; init; }

    /// <summary>OTLP endpoint; empty means no exporter.</summary>
    public string OtlpEndpoint { get; init; } = "";

    public string ServiceName { get; init; } = "cluster-queue";
}
