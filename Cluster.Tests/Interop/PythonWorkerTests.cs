using System.Diagnostics;
using ClusterQueue.Client;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Interop;

/// <summary>One Python Celery worker (prefork, -c 2) on a vhost of its own, shared by the tests of a class.</summary>
public sealed class PythonWorkerFixture : IAsyncLifetime
{
    private PythonCeleryWorker? _worker;

    public string Vhost { get; } = AmqpTestBroker.NewVhost();

    public PythonCeleryWorker Worker => _worker ?? throw new InvalidOperationException("the Python worker has not started");

    public async Task InitializeAsync() => _worker = await PythonCeleryWorker.StartAsync(AmqpTestBroker.UrlOf(Vhost));

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }
    }
}

/// <summary>Our client sends tasks to a Python Celery worker on RabbitMQ and reads the results through our rpc backend.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Python")]
public sealed class PythonWorkerTests(PythonWorkerFixture python) : IClassFixture<PythonWorkerFixture>, IAsyncLifetime
{
    private ClusterQueueApp? _client;

    private ClusterQueueApp Client => _client ?? throw new InvalidOperationException("the client is not open");

    public Task InitializeAsync()
    {
        _client = ClusterQueueApp.Open(AmqpTestBroker.Settings(python.Vhost), new ResultSettings { Backend = "rpc://" });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Add_2_2_on_the_Python_worker_returns_4()
    {
        var sent = await Client.DelayAsync("tasks.add", 2, 2);

        Assert.Equal(4, await Get<long>(sent));
    }

    [Fact]
    public async Task A_Python_ValueError_reaches_us_as_TaskFailedException_naming_it()
    {
        var sent = await Client.DelayAsync("tasks.fail", "python says no");

        var failure = await Assert.ThrowsAsync<TaskFailedException>(() => sent.GetAsync(PythonCelery.Patience));

        Assert.Equal("ValueError", failure.ExcType);
        Assert.Equal("builtins", failure.ExcModule);
        Assert.Equal("python says no", failure.Exception.Message);
        Assert.Contains("ValueError: python says no", failure.RemoteTraceback);
        Assert.Equal(TaskStates.Failure, await sent.GetStateAsync());
    }

    [Fact]
    public async Task A_countdown_we_send_is_honoured_by_the_Python_worker()
    {
        var clock = Stopwatch.StartNew();
        var sent = await Client.ApplyAsync("tasks.add", [1, 2], options: new SendOptions { Countdown = TimeSpan.FromSeconds(2) });

        Assert.Equal(3, await Get<long>(sent));
        // A lower bound only: Python parses our eta and holds the task until then (less a margin for clock reading).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"the result came {clock.Elapsed} after sending, before the countdown ended");
    }

    [Fact]
    public async Task A_task_that_retries_itself_on_the_Python_worker_ends_in_SUCCESS()
    {
        var sent = await Client.DelayAsync("tasks.flaky", "interop", 2);

        Assert.Equal("interop succeeded after 2 failures", await Get<string>(sent));
        Assert.Contains(python.Worker.Output.Split('\n'), l => l.Contains($"tasks.flaky[{sent.Id}] retry", StringComparison.Ordinal));
    }

    private static Task<T?> Get<T>(AsyncResult result) => result.GetAsync<T>(PythonCelery.Patience);
}
