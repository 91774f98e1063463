using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>One pool slot: runs one task at a time and reports back when the slot is free or must be replaced.</summary>
/// <remarks>
/// The task's method itself runs on the .NET thread pool (see <see cref="TaskExecution"/>); this actor only awaits it, and
/// its mailbox waits meanwhile, so a slot holds one task at a time.
/// </remarks>
internal sealed class TaskExecutor : ReceiveActor
{
    // Cancelled when the executor stops (the node's tree is torn down), so a running task is treated as lost.
    private readonly CancellationTokenSource _stopping = new();
    private int _tasksRun;

    public TaskExecutor(NodeServices node, TaskExecution execution)
    {
        ReceiveAsync<Execute>(async execute =>
        {
            var self = Self;
            var parent = Context.Parent;
            var abandoned = await execution.RunAsync(execute.Request, _stopping.Token).ConfigureAwait(false);
            _tasksRun++;
            var maxTasks = node.Settings.MaxTasksPerChild;
            var retire = abandoned || (maxTasks > 0 && _tasksRun >= maxTasks);
            parent.Tell(new ExecutorDone(self, retire), self);
        });
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
    }
}
