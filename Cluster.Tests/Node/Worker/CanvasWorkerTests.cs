using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClusterQueue.Canvas;
using ClusterQueue.Client;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;
using static ClusterQueue.Canvas.Workflow;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

/// <summary>Chains, groups, chords and links applied by our client and run by our worker, on the memory transport and store.</summary>
public sealed class CanvasWorkerTests
{
    private static readonly ConcurrentDictionary<string, int> BodyRuns = new(StringComparer.Ordinal);

    private static void RegisterCanvasTasks(TaskRegistry tasks)
    {
        // A chord body that counts its runs under a key and returns how many results it got and their sum.
        tasks.Register("test.collect", (JsonArray results, string key) =>
        {
            BodyRuns.AddOrUpdate(key, 1, (_, runs) => runs + 1);
            return new JsonArray(results.Count, results.Sum(r => r!.GetValue<long>()));
        });
        // An errback: Celery applies it with the failed task's id.
        tasks.Register("test.record_error", (string failedId, string key) =>
        {
            BodyRuns.AddOrUpdate(key + ":" + failedId, 1, (_, runs) => runs + 1);
            return failedId;
        });
    }

    [Fact]
    public async Task A_chain_applied_by_our_client_runs_in_order_and_its_result_is_the_last_steps()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);

        var result = await worker.App.ApplyAsync(Task("tasks.add", 2, 2) | Task("tasks.mul", 10) | Task("tasks.add", 1));

        Assert.Equal(41, (await result.GetAsync(Patience))!.GetValue<long>());
    }

    [Fact]
    public async Task A_group_runs_every_member_and_its_result_lists_theirs_in_order()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);

        var group = await worker.App.ApplyGroupAsync(Group(Enumerable.Range(0, 10).Select(i => Task("tasks.add", i, i))));

        Assert.Equal(10, group.Results.Count);
        var values = await group.GetAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 2L * i), values.Select(v => v!.GetValue<long>()));
        Assert.Equal(10, await group.CompletedCountAsync());
    }

    [Fact]
    public async Task A_saved_group_restores_with_its_members_in_order()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);
        var group = await worker.App.ApplyGroupAsync(Group(Task("tasks.add", 1, 1), Task("tasks.add", 2, 2)));

        await group.SaveAsync();
        var restored = await worker.App.RestoreGroupAsync(group.Id);

        Assert.NotNull(restored);
        Assert.Equal(group.Results.Select(r => r.Id), restored.Results.Select(r => r.Id));
        Assert.Equal([2L, 4L], (await restored.GetAsync(Patience)).Select(v => v!.GetValue<long>()));
        Assert.True(await restored.DeleteAsync());
        Assert.Null(await worker.App.RestoreGroupAsync(group.Id));
    }

    [Fact]
    public async Task A_chord_applies_its_body_once_with_every_result_in_header_order()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);
        var key = TestTasks.NewKey("chord");

        var result = await worker.App.ApplyAsync(Chord(Enumerable.Range(1, 20).Select(i => Task("tasks.add", i, 0)), Task("test.collect", key)));

        var value = (await result.GetAsync(Patience))!.AsArray();
        Assert.Equal(20, value[0]!.GetValue<long>());
        Assert.Equal(210, value[1]!.GetValue<long>());
        Assert.Equal(1, BodyRuns[key]);
    }

    [Fact]
    public async Task A_group_followed_by_a_step_in_a_chain_becomes_a_chord_as_in_Celery()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);

        var result = await worker.App.ApplyAsync(Task("tasks.add", 1, 1) | Group(Task("tasks.add", 1), Task("tasks.mul", 3)) | Task("tasks.xsum") | Task("tasks.mul", 2));

        // add(1,1)=2; group → [3, 6]; xsum → 9; mul(9, 2) = 18
        Assert.Equal(18, (await result.GetAsync(Patience))!.GetValue<double>());
    }

    [Fact]
    public async Task A_failing_chord_member_fails_the_body_with_a_ChordError_naming_it_and_runs_the_bodys_errback()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);
        var key = TestTasks.NewKey("chord-error");
        var failing = Task("tasks.fail", "member broke").WithOption("task_id", "failing-" + key);
        var body = Task("test.collect", key).WithOption("task_id", "body-" + key).OnError(Task("test.record_error", key));

        var result = await worker.App.ApplyAsync(Chord([Task("tasks.add", 1, 1), failing], body));

        var error = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(Patience));
        Assert.Equal("ChordError", error.Exception.ExcType);
        Assert.Contains("Dependency failing-" + key + " raised InvalidOperationException('member broke')", error.Exception.Message, StringComparison.Ordinal);
        await EventuallyAsync(() => BodyRuns.ContainsKey(key + ":body-" + key), "the body's errback to run with the body's id");
        Assert.False(BodyRuns.ContainsKey(key), "the body must not run");
    }

    [Fact]
    public async Task Link_runs_with_the_result_and_link_error_with_the_failed_tasks_id()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);
        var key = TestTasks.NewKey("links");

        var linked = await worker.App.ApplyAsync(Task("tasks.add", 2, 3).Link(Task("tasks.mul", 10).WithOption("task_id", "callback-" + key)));
        var failed = await worker.App.ApplyAsync(Task("tasks.fail", "no").OnError(Task("test.record_error", key)));

        Assert.Equal(5, (await linked.GetAsync(Patience))!.GetValue<long>());
        Assert.Equal(50, (await worker.ResultAsync("callback-" + key)).Result!.GetValue<long>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($"""[[["callback-{key}", null], null]]"""), (await worker.ResultAsync(linked.Id)).Children));
        await Assert.ThrowsAsync<TaskFailedException>(() => failed.GetAsync(Patience));
        await EventuallyAsync(() => BodyRuns.ContainsKey(key + ":" + failed.Id), "the errback to run with the failed task's id");
    }

    [Fact]
    public async Task A_failing_chain_step_fails_the_later_steps_too_so_that_a_wait_on_the_chain_ends()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);

        var result = await worker.App.ApplyAsync(Task("tasks.add", 1, 1) | Task("tasks.fail", "step broke").AsImmutable() | Task("tasks.mul", 2));

        var error = await Assert.ThrowsAsync<TaskFailedException>(() => result.GetAsync(Patience));
        Assert.Equal("InvalidOperationException", error.Exception.ExcType);
        Assert.Equal("step broke", error.Exception.Message);
    }

    [Fact]
    public async Task Chord_unlock_from_a_client_whose_store_cannot_count_joins_the_chord_when_the_members_are_ready()
    {
        await using var worker = await StartAsync(TestBroker.Memory, register: RegisterCanvasTasks);
        var key = TestTasks.NewKey("unlock");
        var members = await worker.App.ApplyGroupAsync(Group(Task("tasks.add", 1, 2), Task("tasks.add", 3, 4)));
        var body = Task("test.collect", key).WithOption("task_id", "body-" + key);

        // What a Python client with a file:// store sends: celery.chord_unlock(group_id, body, result=[tuples]).
        await worker.App.SendTaskAsync(
            CanvasPublisher.ChordUnlockTask,
            [members.Id, body.ToJson()],
            new JsonObject { ["interval"] = 0.05, ["max_retries"] = null, ["result"] = members.AsTuple()[1]!.DeepClone() },
            new SendOptions { IgnoreResult = true });

        var joined = (await worker.ResultAsync("body-" + key)).Result!.AsArray();
        Assert.Equal(2, joined[0]!.GetValue<long>());
        Assert.Equal(10, joined[1]!.GetValue<long>());
        Assert.Equal(1, BodyRuns[key]);
    }

    /// <summary>
    /// The chord joins in the store: in memory with one worker, and in SQLite and PostgreSQL with two workers, each with
    /// its own backend instance, as two processes count the same chord.
    /// </summary>
    [Theory]
    [InlineData("memory", 1)]
    [InlineData("sqlite", 2)]
    [InlineData("postgresql", 2)]
    public async Task A_chord_of_1000_with_every_member_delivered_twice_applies_its_body_exactly_once_with_1000_results(string store, int workers)
    {
        using var schema = store == "postgresql" ? new PostgresTestSchema() : null;
        var results = new ResultSettings
        {
            Backend = store switch
            {
                "memory" => "memory://",
                "sqlite" => "sqlite:///" + Path.Combine(Directory.CreateTempSubdirectory("cq-chord-").FullName, "results.db"),
                _ => schema!.Url(),
            },
            PollingInterval = TimeSpan.FromMilliseconds(20),
        };
        var broker = NewBroker(TestBroker.Memory);
        await using var app = ClusterQueueApp.Open(broker, results, tasks: Registry(RegisterCanvasTasks));
        var key = TestTasks.NewKey("chord-1000");
        var result = await app.ApplyAsync(Chord(Enumerable.Range(0, 1000).Select(i => Task("tasks.add", i, 1)), Task("test.collect", key)));

        // Every member goes back on the queue twice, as a broker redelivers a task whose worker died before its ack.
        var members = await TakeAsync(app.Transport, "celery", 1000);
        foreach (var delivery in members.Concat(members))
        {
            await app.Transport.PublishAsync("", "celery", delivery.Message);
        }

        var harnesses = new List<WorkerTestHarness> { await WorkerTestHarness.StartAsync(app, new WorkerSettings { Concurrency = 4 }) };
        var workerApps = new List<ClusterQueueApp>();
        try
        {
            for (var i = 1; i < workers; i++)
            {
                var other = ClusterQueueApp.Open(broker, results, tasks: Registry(RegisterCanvasTasks));
                workerApps.Add(other);
                harnesses.Add(await WorkerTestHarness.StartAsync(other, new WorkerSettings { Concurrency = 4 }));
            }

            var value = (await result.GetAsync(TimeSpan.FromMinutes(2)))!.AsArray();

            Assert.Equal(1000, value[0]!.GetValue<long>());
            Assert.Equal(Enumerable.Range(0, 1000).Sum(i => i + 1L), value[1]!.GetValue<long>());
            await EventuallyAsync(() => harnesses.Sum(h => h.Node.Stats.Succeeded) >= 2001, "every delivery to run");
            Assert.Equal(1, BodyRuns[key]);
            if (workers > 1)
            {
                Assert.All(harnesses, h => Assert.True(h.Node.Stats.Succeeded > 0, "each worker took part in the chord"));
            }
        }
        finally
        {
            foreach (var harness in harnesses)
            {
                await harness.DisposeAsync();
            }

            foreach (var other in workerApps)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_chord_on_rpc_is_refused_naming_the_backend_as_Celery_refuses_it()
    {
        await using var app = ClusterQueueApp.Open(NewBroker(TestBroker.Memory), new ResultSettings { Backend = "rpc://" }, tasks: Registry());

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => app.ApplyAsync(Chord([Task("tasks.add", 1, 1)], Task("tasks.xsum"))));

        Assert.Contains("rpc://", error.Message, StringComparison.Ordinal);
    }
}
