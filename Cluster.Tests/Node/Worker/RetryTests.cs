using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class RetryTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_flaky_task_is_retried_with_the_same_id_until_it_succeeds(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);
        var key = TestTasks.NewKey("flaky");

        var sent = await worker.SendAsync("tasks.flaky", key, 2);
        var result = await worker.ResultAsync(sent.Id);
        await worker.EventAsync(sent.Id, TaskEventKind.Succeeded);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal($"{key} succeeded after 2 failures", result.Result!.GetValue<string>());
        var events = worker.EventsOf(sent.Id);
        Assert.Equal(2, events.Count(e => e.Kind == TaskEventKind.Retried));
        Assert.Equal(3, events.Count(e => e.Kind == TaskEventKind.Started));
        Assert.Equal("InvalidOperationException", events.First(e => e.Kind == TaskEventKind.Retried).Exception!.ExcType);
        Assert.Equal(2, worker.Stats.Retried);
        Assert.Equal(1, worker.Stats.Succeeded);
    }

    [Fact]
    public async Task Each_retry_carries_retries_plus_one()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("test.retry_until", 3);

        Assert.Equal(3, (await worker.ResultAsync(sent.Id)).Result!.GetValue<int>());
    }

    [Fact]
    public async Task The_retry_message_keeps_id_root_and_reply_to_names_the_task_as_parent_and_carries_an_eta()
    {
        var transport = new FaultyTransport(ClusterQueue.Transport.TransportRegistry.CreateDefault().Open(NewBroker(TestBroker.Memory)));
        await using var _ = transport;
        await using var results = ResultBackends.Open(new ResultSettings { Backend = "memory://" });
        var app = new ClusterQueue.Client.ClusterQueueApp(transport, results, Registry());
        await using var harness = await ClusterQueue.Node.Hosting.WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 1 });

        var sent = await app.ApplyAsync("test.retry_until", [1], options: new ClusterQueue.Client.SendOptions { ReplyTo = "client-replies" });
        Assert.Equal(1, (await harness.WaitForResultAsync(sent.Id)).Result!.GetValue<int>());

        var messages = transport.Published
            .Where(p => p.Message.Headers.TryGetValue("id", out var id) && (string?)id == sent.Id)
            .Select(p => (p.Options, Message: app.Codec.Decode(p.Message)))
            .ToList();
        Assert.Equal(2, messages.Count);
        var (original, retry) = (messages[0].Message, messages[1].Message);
        Assert.Equal(0, original.Retries);
        Assert.Equal(1, retry.Retries);
        Assert.Equal(sent.Id, retry.Id);
        Assert.Equal(original.RootId, retry.RootId);
        Assert.Equal(sent.Id, retry.ParentId);
        Assert.Equal("client-replies", retry.ReplyTo);
        // Delivered late by the broker; the header carries microseconds, the publish option ticks.
        Assert.NotNull(retry.Eta);
        Assert.Equal(retry.Eta!.Value, messages[1].Options!.NotBefore!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_task_that_exceeds_max_retries_fails_with_its_own_exception()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("test.always_retry");
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal("InvalidOperationException", result.Exception!.ExcType);
        Assert.Equal("still broken", result.Exception.Message);
        Assert.Single(worker.EventsOf(sent.Id), e => e.Kind == TaskEventKind.Retried);
    }

    [Fact]
    public async Task Autoretry_for_retries_the_listed_exception_with_backoff_then_fails_after_max_retries()
    {
        await using var worker = await StartAsync(TestBroker.Memory);
        var key = TestTasks.NewKey("autoretry");

        var sent = await worker.SendAsync("test.autoretry", key);
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal("TimeoutException", result.Exception!.ExcType);
        Assert.Equal(3, TestTasks.Count(key).Entered);
        var events = worker.EventsOf(sent.Id);
        var retried = events.Where(e => e.Kind == TaskEventKind.Retried).ToList();
        var starts = events.Where(e => e.Kind == TaskEventKind.Started).Select(e => e.Timestamp).ToList();
        Assert.Equal(2, retried.Count);
        Assert.Equal(3, starts.Count);
        // retry_backoff: countdowns of 1 s then min(2 s, retry_backoff_max 1 s); no jitter, so neither can be shorter.
        Assert.True(starts[1] - starts[0] >= TimeSpan.FromSeconds(0.95), $"first backoff {starts[1] - starts[0]}");
        Assert.True(starts[2] - starts[1] >= TimeSpan.FromSeconds(0.95), $"second backoff {starts[2] - starts[1]}");
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(10, 600)]
    [InlineData(100, 600)]
    public void Exponential_backoff_doubles_per_retry_up_to_the_maximum(int retries, int expectedSeconds)
    {
        var interval = RetryBackoff.Interval(1, retries, TimeSpan.FromMinutes(10), fullJitter: false, new Random(1));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), interval);
    }

    [Fact]
    public void Full_jitter_picks_whole_seconds_from_zero_to_the_backoff()
    {
        var random = new Random(7);
        var picks = Enumerable.Range(0, 500).Select(_ => RetryBackoff.Interval(1, 3, TimeSpan.FromMinutes(10), fullJitter: true, random)).ToList();

        Assert.All(picks, p => Assert.InRange(p.TotalSeconds, 0, 8));
        Assert.All(picks, p => Assert.Equal(Math.Floor(p.TotalSeconds), p.TotalSeconds));
        Assert.Contains(TimeSpan.Zero, picks);
        Assert.Contains(TimeSpan.FromSeconds(8), picks);
    }
}
