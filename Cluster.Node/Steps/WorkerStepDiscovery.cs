using System.Reflection;
using ClusterQueue.Client;

namespace ClusterQueue.Node.Steps;

/// <summary>Finds the bootsteps of a task assembly: its public non-abstract classes that implement <see cref="IWorkerStep"/>.</summary>
public static class WorkerStepDiscovery
{
    /// <summary>One instance of each step class in <paramref name="assembly"/>, ordered by type name so every start sees the same order.</summary>
    /// <exception cref="WorkerStepConfigException">A step class has no public parameterless constructor, or its constructor threw.</exception>
    public static IReadOnlyList<IWorkerStep> FromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var steps = new List<IWorkerStep>();
        foreach (var type in assembly.GetExportedTypes()
                     .Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && typeof(IWorkerStep).IsAssignableFrom(t))
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                // Refused rather than skipped: a step that silently does not run is harder to find than an error.
                throw new WorkerStepConfigException($"bootstep class {type.FullName} needs a public parameterless constructor", [type.FullName ?? type.Name]);
            }

            try
            {
                steps.Add((IWorkerStep)Activator.CreateInstance(type)!);
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                throw new WorkerStepConfigException($"bootstep class {type.FullName} threw from its constructor: {inner.Message}", [type.FullName ?? type.Name], inner);
            }
        }

        return steps;
    }
}
