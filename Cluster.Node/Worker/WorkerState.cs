using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>Where a task is on this node, as Celery's <c>inspect</c> reports it.</summary>
internal enum TaskPhase
{
    /// <summary>Waiting for a slot or a rate-limit token.</summary>
    Reserved,

    /// <summary>Held until its ETA.</summary>
    Scheduled,

    /// <summary>Running on an executor.</summary>
    Active,

    /// <summary>Gone from the node: finished, or given back to the broker.</summary>
    Gone,
}

/// <summary>A task request moved to <paramref name="Phase"/>.</summary>
internal sealed record TaskPhaseChanged(TaskRequest Request, TaskPhase Phase);

/// <summary>Asks the state actor for its tasks; the reply is <see cref="WorkerTasks"/>.</summary>
internal sealed class GetWorkerTasks
{
    public static readonly GetWorkerTasks Instance = new();
}

/// <summary>One task as inspect lists it.</summary>
internal sealed record TaskSummary(string Id, string Name, string? ArgsRepr, string? KwargsRepr, DateTimeOffset? Eta, bool AcksLate, TaskRequest Request);

/// <summary>The node's tasks by phase, each list in arrival order.</summary>
internal sealed record WorkerTasks(IReadOnlyList<TaskSummary> Active, IReadOnlyList<TaskSummary> Reserved, IReadOnlyList<TaskSummary> Scheduled);

/// <summary>
/// The <c>state</c> actor: which tasks are active, reserved and scheduled on this node, for inspection. Counters live in
/// <see cref="WorkerStats"/>, read without a message; this actor keeps the lists, which only a query needs.
/// </summary>
internal sealed class WorkerState : ReceiveActor
{
    private readonly Dictionary<TaskRequest, (TaskPhase Phase, long Order)> _tasks = [];
    private long _order;

    public WorkerState()
    {
        Receive<TaskPhaseChanged>(changed =>
        {
            if (changed.Phase == TaskPhase.Gone)
            {
                _tasks.Remove(changed.Request);
            }
            else
            {
                _tasks[changed.Request] = (changed.Phase, _order++);
            }
        });
        Receive<GetWorkerTasks>(_ => Sender.Tell(new WorkerTasks(List(TaskPhase.Active), List(TaskPhase.Reserved), List(TaskPhase.Scheduled)), Self));
    }

    private List<TaskSummary> List(TaskPhase phase) =>
        _tasks.Where(t => t.Value.Phase == phase)
            .OrderBy(t => t.Value.Order)
            .Select(t => Summarize(t.Key))
            .ToList();

    private static TaskSummary Summarize(TaskRequest request) =>
        new(request.Id, request.Name, request.Message.ArgsRepr, request.Message.KwargsRepr, request.Message.Eta, request.AcksLate, request);
}
