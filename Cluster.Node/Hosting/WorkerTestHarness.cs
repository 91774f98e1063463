using ClusterQueue.Client;
using ClusterQueue.Node.Steps;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Hosting;

/// <summary>
/// A worker node on a private in-memory broker and result store, for testing task code: send tasks through
/// <see cref="App"/>, read their results, and await the node's task events.
/// </summary>
public sealed class WorkerTestHarness : IAsyncDisposable
{
    private readonly List<TaskLifecycleEvent> _events = [];
    private readonly List<(Func<TaskLifecycleEvent, bool> Match, TaskCompletionSource<TaskLifecycleEvent> Done)> _waiters = [];
    private readonly bool _ownsApp;

    private WorkerTestHarness(ClusterQueueApp app, bool ownsApp)
    {
        App = app;
        _ownsApp = ownsApp;
    }

    /// <summary>How long the harness waits for an event or a result unless told otherwise; generous, for busy build machines.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);

    public ClusterQueueApp App { get; }

    public WorkerNode Node { get; private set; } = null!;

    /// <summary>Every task event the node has raised so far, in order.</summary>
    public IReadOnlyList<TaskLifecycleEvent> Events
    {
        get
        {
            lock (_events)
            {
                return _events.ToList();
            }
        }
    }

    /// <summary>Starts a node for <paramref name="tasks"/> on a fresh <c>memory://</c> broker with a memory result store.</summary>
    public static Task<WorkerTestHarness> StartAsync(TaskRegistry tasks, WorkerSettings? settings = null, ILoggerFactory? logging = null) =>
        StartAsync(tasks, settings, logging, WorkerSteps.None);

    /// <summary>Starts a node for <paramref name="tasks"/> with the user's bootsteps, on a fresh <c>memory://</c> broker.</summary>
    /// <exception cref="WorkerStepStartException">A step threw from its start.</exception>
    public static Task<WorkerTestHarness> StartAsync(TaskRegistry tasks, WorkerSettings? settings, ILoggerFactory? logging, WorkerSteps steps)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var broker = new BrokerSettings { Url = $"memory://harness-{Guid.NewGuid():N}", PollingInterval = TimeSpan.FromMilliseconds(20) };
        var app = ClusterQueueApp.Open(broker, new ResultSettings { Backend = "memory://" }, tasks: tasks, logging: logging);
        return StartAsync(app, settings, logging, steps, ownsApp: true);
    }

    /// <summary>Starts a node on an app the caller made (and disposes), e.g. to share one broker between two nodes.</summary>
    public static Task<WorkerTestHarness> StartAsync(ClusterQueueApp app, WorkerSettings? settings = null, ILoggerFactory? logging = null) =>
        StartAsync(app, settings, logging, WorkerSteps.None, ownsApp: false);

    /// <summary>Starts a node with the user's bootsteps on an app the caller made (and disposes).</summary>
    public static Task<WorkerTestHarness> StartAsync(ClusterQueueApp app, WorkerSettings? settings, ILoggerFactory? logging, WorkerSteps steps) =>
        StartAsync(app, settings, logging, steps, ownsApp: false);

    /// <summary>The first event, past or future, that matches.</summary>
    /// <exception cref="TimeoutException">None came within the timeout; the message lists the events seen.</exception>
    public async Task<TaskLifecycleEvent> WaitForEventAsync(Func<TaskLifecycleEvent, bool> match, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<TaskLifecycleEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_events)
        {
            if (_events.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout ?? DefaultTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var seen = string.Join(", ", Events.Select(e => $"{e.EventType} {e.TaskName}[{e.TaskId}]"));
            throw new TimeoutException($"no matching task event on {Node.Name} within {timeout ?? DefaultTimeout}; seen: [{seen}]");
        }
    }

    /// <summary>The first event of <paramref name="kind"/> for task <paramref name="taskId"/>.</summary>
    public Task<TaskLifecycleEvent> WaitForEventAsync(string taskId, TaskEventKind kind, TimeSpan? timeout = null) =>
        WaitForEventAsync(e => e.TaskId == taskId && e.Kind == kind, timeout);

    /// <summary>The task's stored result once it is ready (SUCCESS, FAILURE or REVOKED).</summary>
    public Task<TaskResult> WaitForResultAsync(string taskId, TimeSpan? timeout = null) =>
        App.Results.WaitAsync(taskId, timeout ?? DefaultTimeout);

    public async ValueTask DisposeAsync()
    {
        await Node.ColdShutdownAsync().ConfigureAwait(false);
        if (_ownsApp)
        {
            await App.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<WorkerTestHarness> StartAsync(ClusterQueueApp app, WorkerSettings? settings, ILoggerFactory? logging, WorkerSteps steps, bool ownsApp)
    {
        var harness = new WorkerTestHarness(app, ownsApp);
        settings = Isolated(settings ?? new WorkerSettings { Concurrency = 2 });
        try
        {
            harness.Node = await WorkerNode.StartAsync(settings, app, logging, harness.Record, system: null, steps, CancellationToken.None).ConfigureAwait(false);
            return harness;
        }
        catch
        {
            if (ownsApp)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// Like Celery's <c>start_worker</c>: no mingle, so a test node starts at once, a cluster of one; and
    /// revocations in memory unless the test names a state db, so parallel tests never share one file.
    /// </summary>
    private static WorkerSettings Isolated(WorkerSettings settings) => settings with
    {
        StateDb = settings.StateDb == new WorkerSettings().StateDb ? "" : settings.StateDb,
        Fabric = settings.Fabric with
        {
            Mingle = settings.Fabric.Mingle with { Enabled = false },
        },
    };

    private void Record(TaskLifecycleEvent taskEvent)
    {
        List<TaskCompletionSource<TaskLifecycleEvent>> ready = [];
        lock (_events)
        {
            _events.Add(taskEvent);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(taskEvent))
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        ready.ForEach(done => done.TrySetResult(taskEvent));
    }
}
