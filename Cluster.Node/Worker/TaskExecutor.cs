using ClusterQueue.Actors;

namespace ClusterQueue.Node.Worker;

/// <summary>One pool slot: runs one task at a time and reports back when the slot is free or must be replaced.</summary>
internal sealed class TaskExecutor : ReceiveActor
{
    private int _tasksRun;

    public TaskExecutor(NodeServices node, TaskExecution execution)
    {
        ReceiveAsync<Execute>(async execute =>
        {
            var abandoned = await execution.RunAsync(execute.Request, Context.CancellationToken).ConfigureAwait(false);
            _tasksRun++;
            var maxTasks = node.Settings.MaxTasksPerChild;
            var retire = abandoned || (maxTasks > 0 && _tasksRun >= maxTasks);
            Context.Parent.Tell(new ExecutorDone(Self, retire), Self);
        });
    }
}
