namespace ClusterQueue.Node.Steps;

/// <summary>A bootstep threw from its start; the worker stopped, and the steps started before it were stopped.</summary>
public sealed class WorkerStepStartException(string stepName, Exception inner)
    : Exception($"bootstep '{stepName}' failed to start: {inner.Message}", inner)
{
    public string StepName { get; } = stepName;
}

/// <summary>The bootsteps cannot be ordered or made: a cycle, an unknown requirement, a name used twice, a class that cannot be created.</summary>
/// <remarks>Raised before the node joins the cluster, so a bad step never leaves a half-started member.</remarks>
public sealed class WorkerStepConfigException(string message, IReadOnlyList<string> stepNames, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The steps the problem is about.</summary>
    public IReadOnlyList<string> StepNames { get; } = stepNames;
}
