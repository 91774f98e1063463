using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>The executor pool: bounded concurrency, time limits, slot replacement and rate limits.</summary>
public sealed class PoolTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task No_more_than_concurrency_tasks_ever_run_at_once(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 3, PrefetchMultiplier = 4 });
        var key = TestTasks.NewKey("count");

        var sent = new List<AsyncResult>();
        for (var i = 0; i < 12; i++)
        {
            sent.Add(await worker.SendAsync("test.count", key));
        }

        // Every message is reserved (prefetch 12), yet only three may start while the gate is shut.
        // A start is counted before the method body runs (it hops to the thread pool), so wait for the bodies too.
        await EventuallyAsync(
            () => worker.Stats.Received == 12 && worker.Stats.Started == 3 && TestTasks.Count(key).Current == 3,
            "12 received, 3 started and 3 inside the task");
        Assert.Equal(9, worker.Stats.Reserved);
        Assert.Equal(3, worker.Stats.Active);
        TestTasks.Open(key);
        foreach (var result in sent)
        {
            Assert.Equal(TaskStates.Success, (await worker.ResultAsync(result.Id)).Status);
        }

        Assert.Equal(3, TestTasks.Count(key).Max);
        // A result is stored just before its slot is released, so the counters settle a moment after the last result.
        await EventuallyAsync(() => worker.Stats.Succeeded == 12 && worker.Stats.Active == 0, "12 succeeded and none active");
    }

    [Fact]
    public async Task The_soft_time_limit_cancels_the_task_and_it_fails_with_SoftTimeLimitExceeded()
    {
        await using var worker = await StartAsync(TestBroker.Memory);

        var sent = await worker.SendAsync("tasks.sleep", new SendOptions { SoftTimeLimit = TimeSpan.FromMilliseconds(300) }, 60.0);
        var result = await worker.ResultAsync(sent.Id);

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal("SoftTimeLimitExceeded", result.Exception!.ExcType);
        Assert.Equal("billiard.exceptions", result.Exception.ExcModule);
        Assert.Contains("TaskCanceledException", result.Traceback);
    }

    [Fact]
    public async Task The_hard_time_limit_fails_a_stuck_task_with_TimeLimitExceeded_and_frees_its_slot()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1 });
        var block = TestTasks.NewKey("stuck");
        try
        {
            var stuck = await worker.SendAsync("test.stuck", new SendOptions { TimeLimit = TimeSpan.FromSeconds(1) }, block);
            var failure = await worker.ResultAsync(stuck.Id);
            // The only slot is still occupied by the stuck thread; the replacement executor must run this.
            var next = await worker.SendAsync("tasks.add", 1, 2);
            var success = await worker.ResultAsync(next.Id);

            Assert.Equal(TaskStates.Failure, failure.Status);
            Assert.Equal("{\"exc_type\":\"TimeLimitExceeded\",\"exc_message\":[1],\"exc_module\":\"billiard.exceptions\"}", failure.Result!.ToJsonString());
            Assert.Null(failure.Traceback);
            Assert.Equal(3, success.Result!.GetValue<long>());
        }
        finally
        {
            TestTasks.Unblock(block);
        }
    }

    [Fact]
    public async Task The_nodes_time_limit_applies_when_neither_task_nor_message_sets_one()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, TaskSoftTimeLimit = TimeSpan.FromMilliseconds(200) });

        var sent = await worker.SendAsync("tasks.sleep", 60.0);

        Assert.Equal("SoftTimeLimitExceeded", (await worker.ResultAsync(sent.Id)).Exception!.ExcType);
    }

    [Fact]
    public async Task With_max_tasks_per_child_the_slot_is_replaced_and_keeps_serving()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, MaxTasksPerChild = 1 });

        var sent = new List<AsyncResult>();
        for (var i = 0; i < 4; i++)
        {
            sent.Add(await worker.SendAsync("tasks.add", i, i));
        }

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(2 * i, (await worker.ResultAsync(sent[i].Id)).Result!.GetValue<long>());
        }
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task A_rate_limit_spaces_the_starts_of_a_task_type_by_its_interval(TestBroker broker)
    {
        await using var worker = await StartAsync(broker, new WorkerSettings { Concurrency = 4 });

        var sentAt = DateTimeOffset.UtcNow;
        var sent = new List<AsyncResult>();
        for (var i = 0; i < 4; i++)
        {
            sent.Add(await worker.SendAsync("test.rated", i));
        }

        foreach (var result in sent)
        {
            await worker.ResultAsync(result.Id);
        }

        var ids = sent.Select(s => s.Id).ToHashSet();
        var starts = worker.Harness.Events
            .Where(e => e.Kind == TaskEventKind.Started && ids.Contains(e.TaskId))
            .Select(e => e.Timestamp)
            .Order()
            .ToList();
        Assert.Equal(4, starts.Count);
        // 2/s with a bucket of one: the i-th start is booked i intervals after the first booking, which came after
        // sending, even with four idle slots. Load can only delay a start, so this bound cannot flake; without the
        // limit all four would start within milliseconds of sending.
        for (var i = 1; i < starts.Count; i++)
        {
            Assert.True(starts[i] >= sentAt + (i * TimeSpan.FromMilliseconds(495)), $"start {i} came {starts[i] - sentAt} after sending");
        }
    }

    [Fact]
    public async Task A_rate_limited_task_waits_off_the_pool_so_other_tasks_still_run()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1 });

        var rated = new List<AsyncResult>();
        for (var i = 0; i < 3; i++)
        {
            rated.Add(await worker.SendAsync("test.rated", i));
        }

        var other = await worker.SendAsync("tasks.add", 5, 5);
        var otherDone = await worker.EventAsync(other.Id, TaskEventKind.Succeeded);
        var lastRatedStart = await worker.EventAsync(rated[2].Id, TaskEventKind.Started);

        Assert.True(otherDone.Timestamp < lastRatedStart.Timestamp, "the unlimited task ran while the rate-limited ones waited for tokens");
    }

    [Fact]
    public async Task Disable_rate_limits_ignores_them()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, DisableRateLimits = true });

        var sent = new List<AsyncResult>();
        for (var i = 0; i < 3; i++)
        {
            sent.Add(await worker.SendAsync("test.rated", i));
        }

        foreach (var result in sent)
        {
            Assert.Equal(TaskStates.Success, (await worker.ResultAsync(result.Id)).Status);
        }
    }

    [Fact]
    public void The_rate_limiter_books_one_token_per_interval_in_arrival_order()
    {
        var clock = new FixedClock(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var limiter = new RateLimiter(clock);
        var limit = RateLimit.Parse("2/s")!;

        var starts = Enumerable.Range(0, 4).Select(_ => limiter.Book("tasks.x", limit) - clock.Now).ToList();
        var other = limiter.Book("tasks.y", limit) - clock.Now;

        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5)], starts);
        Assert.Equal(TimeSpan.Zero, other);
        clock.Now += TimeSpan.FromSeconds(10);
        Assert.Equal(clock.Now, limiter.Book("tasks.x", limit));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
