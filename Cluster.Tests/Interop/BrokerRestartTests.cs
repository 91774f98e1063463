using System.Collections.Concurrent;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Tests.Node;
using ClusterQueue.Tests.Transport.Amqp;
using Xunit.Abstractions;

namespace ClusterQueue.Tests.Interop;

/// <summary>
/// RabbitMQ stops and starts under a worker with late-ack tasks queued and running. Delivery is at-least-once: every
/// task completes, and a task whose ack was lost with the connection runs again, so duplicates are allowed and reported.
/// </summary>
[Collection(BrokerRestartCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
public sealed class BrokerRestartTests(ITestOutputHelper output)
{
    private const int TaskCount = 5_000;

    private const int Concurrency = 2;

    /// <summary>Generous: the broker restart and the drain of 5,000 tasks share a busy two-core machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Every_persistent_late_ack_task_completes_at_least_once_across_a_broker_restart()
    {
        var vhost = AmqpTestBroker.NewVhost();
        // Each task waits at one gate, opened only once the broker is down: the stop then meets tasks both running
        // and queued, however fast the worker would otherwise drain them.
        var gate = TestTasks.NewKey("broker-restart");
        await using (var client = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost)))
        {
            // Sent in slices so the publisher confirms overlap instead of costing a round trip each.
            foreach (var slice in Enumerable.Range(0, TaskCount).Chunk(250))
            {
                await Task.WhenAll(slice.Select(_ => client.SendTaskAsync("test.wait", [gate])));
            }
        }

        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var successes = 0;
        var started = 0;
        var poolBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnEvent(TaskLifecycleEvent e)
        {
            if (e.Kind == TaskEventKind.Started && Interlocked.Increment(ref started) >= Concurrency)
            {
                poolBusy.TrySetResult();
            }

            if (e.Kind != TaskEventKind.Succeeded)
            {
                return;
            }

            Interlocked.Increment(ref successes);
            runs.AddOrUpdate(e.TaskId, 1, (_, n) => n + 1);
            if (runs.Count == TaskCount)
            {
                allDone.TrySetResult();
            }
        }

        await using var workerApp = ClusterQueueApp.Open(AmqpTestBroker.Settings(vhost), tasks: WorkerHarness.Registry());
        // The observer is subscribed before the first message can arrive, so no completion goes uncounted.
        await using var worker = await WorkerNode.StartAsync(
            new WorkerSettings { Concurrency = Concurrency, AcksLate = true }, workerApp, logging: null, observer: OnEvent, CancellationToken.None);

        await poolBusy.Task.WaitAsync(Patience);
        await AmqpTestBroker.RabbitMqCtlAsync("stop_app");
        // The running tasks finish while the broker is down, so their acks have no connection to travel on.
        TestTasks.Open(gate);
        await AmqpTestBroker.RabbitMqCtlAsync("start_app");

        await allDone.Task.WaitAsync(Patience);

        Assert.Equal(TaskCount, runs.Count);
        var duplicates = Volatile.Read(ref successes) - TaskCount;
        output.WriteLine($"all {TaskCount} distinct tasks completed; {duplicates} ran more than once (at-least-once delivery)");
        // Only a task running when the broker went down can run twice: its late ack was lost; queued ones were never acked.
        Assert.InRange(duplicates, 0, Concurrency);
    }
}

/// <summary>Stopping the shared RabbitMQ would break every other AMQP test running meanwhile, so this runs alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerRestartCollection
{
    public const string Name = "broker restart";
}
