using ClusterQueue.Client;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Node.Steps;

/// <summary>
/// The user's bootsteps in the order they start (dependencies first, otherwise in the order given), and the
/// configuration they are handed. Ordering is checked when this is made, so a worker refuses bad steps before it starts.
/// </summary>
public sealed class WorkerSteps
{
    private WorkerSteps(IReadOnlyList<IWorkerStep> inStartOrder, IConfiguration? configuration)
    {
        InStartOrder = inStartOrder;
        Configuration = configuration ?? new ConfigurationBuilder().Build();
    }

    /// <summary>No user steps.</summary>
    public static WorkerSteps None { get; } = new([], null);

    /// <summary>The steps in start order; they stop in the reverse.</summary>
    public IReadOnlyList<IWorkerStep> InStartOrder { get; }

    /// <summary>What <see cref="WorkerStepContext.Configuration"/> gives each step.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>Orders <paramref name="steps"/> by their <see cref="IWorkerStep.Requires"/>.</summary>
    /// <exception cref="WorkerStepConfigException">
    /// A step has no name or a name used twice or by a built-in part, requires a step that does not exist or one that
    /// starts after user steps, or the requirements form a cycle; the message names the steps.
    /// </exception>
    public static WorkerSteps Order(IEnumerable<IWorkerStep> steps, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var given = steps.ToList();
        var byName = new Dictionary<string, IWorkerStep>(StringComparer.Ordinal);
        foreach (var step in given)
        {
            var name = step.Name;
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new WorkerStepConfigException($"bootstep {step.GetType().FullName} has no name", [step.GetType().FullName ?? ""]);
            }

            if (BuiltInSteps.Find(name) is not null)
            {
                throw new WorkerStepConfigException($"bootstep name '{name}' ({step.GetType().FullName}) is the name of a built-in part of the worker", [name]);
            }

            if (!byName.TryAdd(name, step))
            {
                throw new WorkerStepConfigException($"two bootsteps are named '{name}' ({byName[name].GetType().FullName} and {step.GetType().FullName})", [name]);
            }
        }

        foreach (var step in given)
        {
            foreach (var required in step.Requires ?? [])
            {
                if (byName.ContainsKey(required))
                {
                    continue;
                }

                var builtIn = BuiltInSteps.Find(required)
                    ?? throw new WorkerStepConfigException($"bootstep '{step.Name}' requires '{required}', which is neither a built-in part of the worker nor a bootstep", [step.Name, required]);
                if (!builtIn.BeforeUserSteps)
                {
                    throw new WorkerStepConfigException(
                        $"bootstep '{step.Name}' requires '{required}', which starts after the bootsteps (they start after '{BuiltInSteps.Autoreload}' and before '{BuiltInSteps.Consumers}')",
                        [step.Name, required]);
                }
            }
        }

        return new WorkerSteps(TopologicalOrder(given, byName), configuration);
    }

    /// <summary>Kahn's algorithm, taking the first ready step in the given order each round, so independent steps keep their order.</summary>
    private static List<IWorkerStep> TopologicalOrder(List<IWorkerStep> given, Dictionary<string, IWorkerStep> byName)
    {
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<IWorkerStep>(given.Count);
        var waiting = new List<IWorkerStep>(given);
        while (waiting.Count > 0)
        {
            var ready = waiting.FindIndex(step => UserRequirements(step, byName).All(placed.Contains));
            if (ready < 0)
            {
                var cycle = FindCycle(waiting, byName);
                throw new WorkerStepConfigException($"bootsteps require each other in a cycle: {string.Join(" -> ", cycle)}", cycle.Distinct().ToList());
            }

            placed.Add(waiting[ready].Name);
            ordered.Add(waiting[ready]);
            waiting.RemoveAt(ready);
        }

        return ordered;
    }

    private static IEnumerable<string> UserRequirements(IWorkerStep step, Dictionary<string, IWorkerStep> byName) =>
        (step.Requires ?? []).Where(byName.ContainsKey);

    /// <summary>Every waiting step requires another waiting one, so following those requirements must come back round.</summary>
    private static List<string> FindCycle(List<IWorkerStep> waiting, Dictionary<string, IWorkerStep> byName)
    {
        var stuck = waiting.Select(step => step.Name).ToHashSet(StringComparer.Ordinal);
        var path = new List<string>();
        var current = waiting[0].Name;
        while (!path.Contains(current))
        {
            path.Add(current);
            current = UserRequirements(byName[current], byName).First(stuck.Contains);
        }

        return [.. path.Skip(path.IndexOf(current)), current];
    }
}
