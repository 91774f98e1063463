using ClusterQueue.Client;
using ClusterQueue.Results;
using ClusterQueue.Node.Worker;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolCollection
{
    /// <summary>Tests that read the process's thread-pool minimum, which nodes of parallel tests would change under them.</summary>
    public const string Name = "thread pool minimum";
}

[Collection(ThreadPoolCollection.Name)]
public sealed class ThreadPoolReservationTests
{
    [Fact]
    public async Task Every_slot_keeps_a_thread_pool_thread_reserved_so_a_node_whose_tasks_all_block_still_answers()
    {
        const int slots = 6;
        var before = MinimumWorkerThreads();
        var block = TestTasks.NewKey("all-blocked");
        var worker = await WorkerHarness.StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = slots });
        try
        {
            // Each slot reserves its thread as its actor starts, which may be just after the node reports ready.
            await EventuallyAsync(() => MinimumWorkerThreads() == before + slots, "every slot to reserve its thread");
            for (var i = 0; i < slots; i++)
            {
                await worker.SendAsync("test.stuck", block);
            }

            await EventuallyAsync(() => worker.Stats.Started == slots, "every slot to be blocked");
            // Every slot's thread is blocked; the node's actors still run on the threads left to them.
            var tasks = await worker.Node.InspectTasksAsync().WaitAsync(Patience);
            Assert.Equal(slots, tasks.Active.Count);
        }
        finally
        {
            TestTasks.Unblock(block);
            await worker.DisposeAsync();
        }

        Assert.Equal(before, MinimumWorkerThreads());
    }

    [Fact]
    public async Task A_method_abandoned_at_its_hard_time_limit_keeps_a_reserved_thread_until_it_returns()
    {
        var before = MinimumWorkerThreads();
        var block = TestTasks.NewKey("abandoned");
        await using var worker = await WorkerHarness.StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1 });
        try
        {
            var stuck = await worker.SendAsync("test.stuck", new SendOptions { TimeLimit = TimeSpan.FromMilliseconds(300) }, block);
            Assert.Equal(TaskStates.Failure, (await worker.ResultAsync(stuck.Id)).Status);

            // The replacement slot's thread, and the one the stuck method still holds.
            await EventuallyAsync(() => MinimumWorkerThreads() == before + 2, "the replacement slot to reserve its thread");
        }
        finally
        {
            TestTasks.Unblock(block);
        }

        await EventuallyAsync(() => MinimumWorkerThreads() == before + 1, "the returned method to give its thread back");
    }

    private static int MinimumWorkerThreads()
    {
        ThreadPool.GetMinThreads(out var workers, out _);
        return workers;
    }
}
