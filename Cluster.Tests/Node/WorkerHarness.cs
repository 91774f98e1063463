using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Samples;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Node;

/// <summary>The broker a worker test runs on; tests where the transport matters run on both.</summary>
public enum TestBroker
{
    Memory,
    Sqlite,
}

/// <summary>Starts worker nodes for tests: the demo tasks plus test tasks, on a fresh memory or SQLite broker.</summary>
public static class WorkerHarness
{
    /// <summary>Generous, because the test machine is small and busy; a passing await finishes in milliseconds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A broker of its own for one test: a unique memory name, or a new SQLite file.</summary>
    public static BrokerSettings NewBroker(TestBroker kind) => new()
    {
        Url = kind == TestBroker.Memory
            ? $"memory://worker-test-{Guid.NewGuid():N}"
            : $"sqlite:///{Path.Combine(Directory.CreateTempSubdirectory("cq-worker-").FullName, "broker.db")}",
        PollingInterval = TimeSpan.FromMilliseconds(20),
    };

    /// <summary>The demo tasks (tasks.add, tasks.sleep, tasks.flaky…) and the <see cref="TestTasks"/>, plus any extra.</summary>
    public static TaskRegistry Registry(Action<TaskRegistry>? register = null)
    {
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Tasks).Assembly);
        TestTasks.Register(tasks);
        register?.Invoke(tasks);
        return tasks;
    }

    /// <summary>An app on <paramref name="broker"/> with a memory result store.</summary>
    public static ClusterQueueApp OpenApp(BrokerSettings broker, TaskRegistry tasks, PublishSettings? publish = null) =>
        ClusterQueueApp.Open(broker, new ResultSettings { Backend = "memory://" }, publish, tasks: tasks);

    /// <summary>Starts one node on a new broker of <paramref name="kind"/>; disposing it stops the node and closes the app.</summary>
    public static async Task<TestWorker> StartAsync(TestBroker kind, WorkerSettings? settings = null, Action<TaskRegistry>? register = null, PublishSettings? publish = null)
    {
        var app = OpenApp(NewBroker(kind), Registry(register), publish);
        try
        {
            var harness = await WorkerTestHarness.StartAsync(app, settings ?? new WorkerSettings { Concurrency = 2 });
            return new TestWorker(harness, app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking often; fails naming <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? Patience);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!condition())
        {
            try
            {
                await tick.WaitForNextTickAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"still waiting for {what} after {timeout ?? Patience}");
            }
        }
    }

    /// <summary>Waits until an asynchronous <paramref name="condition"/> (a remote-control query) holds, asking every 100 ms; fails naming <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? Patience);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            try
            {
                await tick.WaitForNextTickAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"still waiting for {what} after {timeout ?? Patience}");
            }
        }
    }

    /// <summary>The messages of <paramref name="queue"/>, taken and acked; an empty list when none arrives within <paramref name="count"/> reads.</summary>
    public static async Task<List<Delivery>> TakeAsync(ITransport transport, string queue, int count)
    {
        await using var consumer = await transport.ConsumeAsync(queue, new ConsumeOptions(Prefetch: count));
        var taken = new List<Delivery>();
        using var limit = new CancellationTokenSource(Patience);
        while (taken.Count < count)
        {
            var delivery = await consumer.Deliveries.ReadAsync(limit.Token);
            await consumer.AckAsync(delivery);
            taken.Add(delivery);
        }

        return taken;
    }
}

/// <summary>A node started by <see cref="WorkerHarness"/>, with the app it owns.</summary>
public sealed class TestWorker(WorkerTestHarness harness, ClusterQueueApp app) : IAsyncDisposable
{
    public WorkerTestHarness Harness { get; } = harness;

    public ClusterQueueApp App { get; } = app;

    public WorkerNode Node => Harness.Node;

    public WorkerStats Stats => Harness.Node.Stats;

    public Task<AsyncResult> SendAsync(string task, params object?[] args) => App.ApplyAsync(task, args);

    public Task<AsyncResult> SendAsync(string task, SendOptions options, params object?[] args) =>
        App.ApplyAsync(task, args, options: options);

    public Task<TaskResult> ResultAsync(string taskId) => Harness.WaitForResultAsync(taskId);

    public Task<TaskLifecycleEvent> EventAsync(string taskId, TaskEventKind kind) => Harness.WaitForEventAsync(taskId, kind);

    public IReadOnlyList<TaskLifecycleEvent> EventsOf(string taskId) => Harness.Events.Where(e => e.TaskId == taskId).ToList();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Harness.DisposeAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>Tasks that let a test hold a task mid-run and count what runs at once.</summary>
public static class TestTasks
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ManualResetEventSlim> Blocks = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, RunningCount> Counts = new(StringComparer.Ordinal);

    /// <summary>A fresh name for a gate, block or count, so tests running side by side never share one.</summary>
    public static string NewKey(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>Lets every <c>test.wait</c> on <paramref name="gate"/> finish.</summary>
    public static void Open(string gate) => Gate(gate).TrySetResult();

    /// <summary>Lets every <c>test.stuck</c> on <paramref name="block"/> return.</summary>
    public static void Unblock(string block) => Block(block).Set();

    public static RunningCount Count(string key) => Counts.GetOrAdd(key, _ => new RunningCount());

    public static void Register(TaskRegistry tasks)
    {
        // Awaits the gate, listening to the task's token (soft limit, cold shutdown).
        tasks.Register("test.wait", async (string gate, CancellationToken cancellationToken) =>
        {
            await Gate(gate).Task.WaitAsync(cancellationToken);
            return gate;
        });

        // Ignores its token and blocks its thread: what a hard time limit is for.
        tasks.Register("test.stuck", (string block) =>
        {
            Block(block).Wait();
            return block;
        });

        // Counts how many run at once, and waits at the gate of the same key.
        tasks.Register("test.count", async (string key, CancellationToken cancellationToken) =>
        {
            var count = Count(key);
            count.Enter();
            try
            {
                await Gate(key).Task.WaitAsync(cancellationToken);
            }
            finally
            {
                count.Leave();
            }

            return count.Max;
        });

        // Retries itself until it has been retried `times` times, then reports how many retries it saw.
        tasks.Register(
            "test.retry_until",
            (int times, TaskContext context) =>
                context.Retries < times
                    ? throw context.Retry(countdown: TimeSpan.FromMilliseconds(100), exception: new InvalidOperationException($"attempt {context.Retries}"))
                    : context.Retries,
            new TaskOptions { MaxRetries = 5 });

        // Always asks for a retry; with max_retries 1 the second attempt fails with the cause.
        tasks.Register(
            "test.always_retry",
            int (TaskContext context) => throw context.Retry(countdown: TimeSpan.FromMilliseconds(100), exception: new InvalidOperationException("still broken")),
            new TaskOptions { MaxRetries = 1 });

        // Raises TimeoutException, which autoretry_for retries with a capped exponential backoff.
        tasks.Register(
            "test.autoretry",
            int (string key) =>
            {
                Count(key).Enter();
                throw new TimeoutException($"remote timed out ({key})");
            },
            new TaskOptions
            {
                AutoRetryFor = [typeof(TimeoutException)],
                MaxRetries = 2,
                RetryBackoff = true,
                RetryBackoffMax = TimeSpan.FromSeconds(1),
                RetryJitter = false,
            });

        tasks.Register("test.rated", (int n) => n, new TaskOptions { RateLimit = RateLimit.Parse("2/s") });

        tasks.Register("test.late", async (string gate, CancellationToken cancellationToken) =>
        {
            await Gate(gate).Task.WaitAsync(cancellationToken);
            return gate;
        }, new TaskOptions { AcksLate = true });

        tasks.Register("test.started", (int n) => n, new TaskOptions { TrackStarted = true });

        tasks.Register("test.quiet", (int n) => n, new TaskOptions { IgnoreResult = true });

        tasks.Register("test.args", (JsonArray values) => values.Count);
    }

    private static TaskCompletionSource Gate(string gate) =>
        Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private static ManualResetEventSlim Block(string block) => Blocks.GetOrAdd(block, _ => new ManualResetEventSlim());

    /// <summary>How many run now, and the most that ever ran at once.</summary>
    public sealed class RunningCount
    {
        private int _current;
        private int _max;
        private int _entered;

        public int Max => Volatile.Read(ref _max);

        public int Current => Volatile.Read(ref _current);

        public int Entered => Volatile.Read(ref _entered);

        public void Enter()
        {
            Interlocked.Increment(ref _entered);
            var now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }
        }

        public void Leave() => Interlocked.Decrement(ref _current);
    }
}
