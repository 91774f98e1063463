using System.Diagnostics;
using ClusterQueue.Client;
using ClusterQueue.Node.Commands;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Pool;

/// <summary>The prefork pool on real child processes: kills at the hard limit, recycling, lost children, autoreload.</summary>
public sealed class PreforkPoolTests
{
    [Fact]
    public async Task A_task_that_ignores_its_token_is_killed_at_the_hard_limit_and_the_next_task_runs_on_a_fresh_child()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1 });
        var first = await PidAsync(worker);

        var spin = await worker.SendAsync("tasks.spin", new SendOptions { TimeLimit = TimeSpan.FromSeconds(1) }, 120.0);
        var failure = await worker.ResultAsync(spin.Id);
        var next = await PidAsync(worker);

        Assert.Equal(TaskStates.Failure, failure.Status);
        Assert.Equal("{\"exc_type\":\"TimeLimitExceeded\",\"exc_message\":[1],\"exc_module\":\"billiard.exceptions\"}", failure.Result!.ToJsonString());
        await EventuallyAsync(() => !IsRunning(first), $"the spinning child {first} is gone");
        Assert.NotEqual(first, next);
        Assert.True(IsRunning(next), "the replacement child runs");
    }

    [Fact]
    public async Task Max_tasks_per_child_10_gives_100_results_from_at_least_10_children()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 2, MaxTasksPerChild = 10 });

        var sent = new List<AsyncResult>();
        for (var i = 0; i < 100; i++)
        {
            sent.Add(await worker.SendAsync("tasks.pid"));
        }

        var pids = new List<long>();
        foreach (var result in sent)
        {
            var stored = await worker.ResultAsync(result.Id);
            Assert.Equal(TaskStates.Success, stored.Status);
            pids.Add(stored.Result!.GetValue<long>());
        }

        Assert.Equal(100, pids.Count);
        Assert.True(pids.Distinct().Count() >= 10, $"{pids.Distinct().Count()} distinct children ran 100 tasks");
        Assert.All(pids.GroupBy(p => p), child => Assert.True(child.Count() <= 10, $"child {child.Key} ran {child.Count()} tasks"));
    }

    [Fact]
    public async Task A_child_that_leaks_past_max_memory_per_child_is_replaced_after_its_task()
    {
        // A .NET child starts well under 100 MiB resident; the leak adds 256 MiB.
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1, MaxMemoryPerChild = 200 * 1024 });
        var first = await PidAsync(worker);
        Assert.Equal(first, await PidAsync(worker));

        var leak = await worker.SendAsync("tasks.leak", 256);
        var leaked = await worker.ResultAsync(leak.Id);
        var after = await PidAsync(worker);

        Assert.Equal(TaskStates.Success, leaked.Status);
        Assert.Equal(first, leaked.Result!.GetValue<long>());
        Assert.NotEqual(first, after);
        await EventuallyAsync(() => !IsRunning(first), $"the leaking child {first} is gone");
    }

    [Fact]
    public async Task Sigkill_of_a_child_mid_task_with_late_ack_and_reject_on_worker_lost_runs_the_task_again()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1, AcksLate = true, RejectOnWorkerLost = true });
        var child = await PidAsync(worker);

        var mark = Path.Combine(Path.GetTempPath(), "cq-hold-" + Guid.NewGuid().ToString("N"));
        var sleep = await worker.SendAsync("tasks.hold", mark, 3.0);
        await EventuallyAsync(() => File.Exists(mark), "the child runs the task");
        File.Delete(mark);
        Process.GetProcessById((int)child).Kill();
        var result = await worker.ResultAsync(sleep.Id);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.NotEqual(child, result.Result!.GetValue<long>());
        Assert.Equal(2, worker.EventsOf(sleep.Id).Count(e => e.Kind == TaskEventKind.Started));
    }

    [Fact]
    public async Task Sigkill_of_a_child_mid_task_without_reject_on_worker_lost_fails_it_with_WorkerLostError()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1, AcksLate = true });
        var child = await PidAsync(worker);

        var mark = Path.Combine(Path.GetTempPath(), "cq-hold-" + Guid.NewGuid().ToString("N"));
        var sleep = await worker.SendAsync("tasks.hold", mark, 30.0);
        await EventuallyAsync(() => File.Exists(mark), "the child runs the task");
        File.Delete(mark);
        Process.GetProcessById((int)child).Kill();
        var result = await worker.ResultAsync(sleep.Id);

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal("WorkerLostError", result.Exception!.ExcType);
        Assert.Equal("billiard.exceptions", result.Exception.ExcModule);
        Assert.StartsWith("Worker exited prematurely: signal 9 (SIGKILL) Job:", result.Exception.Message, StringComparison.Ordinal);
        Assert.NotEqual(child, await PidAsync(worker));
    }

    [Fact]
    public async Task Revoke_with_terminate_kills_the_child_running_the_task_and_the_next_task_runs_on_a_fresh_child()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1 });
        var child = await PidAsync(worker);
        await using var control = new ClusterQueue.Fabric.Control.PidboxClient(worker.App.Transport, new ClusterQueue.Fabric.ControlSettings());

        // It ignores its token, so only the kill can stop it.
        var spin = await worker.SendAsync("tasks.spin", 600.0);
        await worker.EventAsync(spin.Id, TaskEventKind.Started);
        var replies = await control.BroadcastAsync("revoke", new ClusterQueue.Fabric.Control.RevokeArguments([spin.Id], true).ToJson(), limit: 1, timeout: TimeSpan.FromSeconds(10));
        var result = await worker.ResultAsync(spin.Id);

        Assert.Equal($"terminate: {spin.Id}", (string)Assert.Single(replies).Value!["ok"]!);
        Assert.Equal(TaskStates.Revoked, result.Status);
        Assert.Contains("terminated", result.Result!.ToJsonString(), StringComparison.Ordinal);
        await EventuallyAsync(() => !IsRunning(child), $"the terminated child {child} is gone");
        Assert.NotEqual(child, await PidAsync(worker));
    }

    [Fact]
    public async Task An_idle_child_that_dies_is_replaced_and_no_task_is_given_to_it()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 1 });
        var child = await PidAsync(worker);

        Process.GetProcessById((int)child).Kill();
        await EventuallyAsync(() => !IsRunning(child), $"child {child} is gone");
        var next = await worker.SendAsync("tasks.add", 2, 3);
        var result = await worker.ResultAsync(next.Id);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(5, result.Result!.GetValue<long>());

        // Killed with no pause before the next task: the slot may not know yet, and the task still goes to a live child.
        var second = await PidAsync(worker);
        Process.GetProcessById((int)second).Kill();
        var raced = await worker.ResultAsync((await worker.SendAsync("tasks.add", 4, 5)).Id);
        Assert.Equal(TaskStates.Success, raced.Status);
        Assert.Equal(9, raced.Result!.GetValue<long>());
    }

    [Fact]
    public async Task Failures_retries_and_autoretry_cross_from_the_child_as_they_happen_in_process()
    {
        await using var worker = await StartAsync(new WorkerSettings { Concurrency = 2 });

        var failed = await worker.ResultAsync((await worker.SendAsync("tasks.fail", "bad input")).Id);
        var retried = await worker.ResultAsync((await worker.SendAsync("tasks.retry")).Id);
        var autoRetried = await worker.ResultAsync((await worker.SendAsync("tasks.timeout")).Id);
        var badArguments = await worker.ResultAsync((await worker.SendAsync("tasks.add", 1)).Id);

        Assert.Equal(TaskStates.Failure, failed.Status);
        Assert.Equal(new ExceptionInfo("ArgumentException", [System.Text.Json.Nodes.JsonValue.Create("bad input")], "System").ToJson().ToJsonString(), failed.Result!.ToJsonString());
        Assert.Contains("PoolTasks.Fail", failed.Traceback, StringComparison.Ordinal);
        Assert.Equal("retried 1", retried.Result!.GetValue<string>());
        Assert.Equal("retried 2", autoRetried.Result!.GetValue<string>());
        Assert.Equal("TypeError", badArguments.Exception!.ExcType);
        Assert.Contains("missing required argument: 'y'", badArguments.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_task_registered_only_in_code_stops_a_prefork_worker_at_start_naming_it()
    {
        var app = CompileApp();
        var registry = TaskAssemblies.Load(app);
        registry.Register("tasks.in_code", () => 1);
        await using var clusterApp = OpenApp(NewBroker(TestBroker.Memory), registry);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => WorkerTestHarness.StartAsync(clusterApp, new WorkerSettings { Concurrency = 1, Pool = "prefork", App = app }));

        Assert.Contains("tasks.in_code", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prefork")]
    [InlineData("threads")]
    public async Task Autoreload_runs_the_new_code_while_tasks_flow_and_every_task_has_exactly_one_result(string pool)
    {
        var logs = new CapturingLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var worker = await StartAsync(
            new WorkerSettings { Concurrency = 2, Autoreload = true, AutoreloadInterval = TimeSpan.FromMilliseconds(100) },
            logging,
            pool);
        var app = AppOf(worker);

        var sent = new List<AsyncResult>();
        for (var i = 0; i < 40; i++)
        {
            sent.Add(await worker.SendAsync("tasks.version"));
        }

        TaskAssemblyCompiler.Compile(app, TaskAssemblyCompiler.PoolTasks("v2"));
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var probe = await worker.SendAsync("tasks.version");
            sent.Add(probe);
            if ((await worker.ResultAsync(probe.Id)).Result!.GetValue<string>() == "v2")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the new version never ran");
        }

        for (var i = 0; i < 40; i++)
        {
            sent.Add(await worker.SendAsync("tasks.version"));
        }

        var values = new List<string>();
        foreach (var result in sent)
        {
            var stored = await worker.ResultAsync(result.Id);
            Assert.Equal(TaskStates.Success, stored.Status);
            values.Add(stored.Result!.GetValue<string>());
        }

        Assert.All(values, v => Assert.Contains(v, new[] { "v1", "v2" }));
        Assert.Equal("v1", values[0]);
        Assert.All(values.TakeLast(40), v => Assert.Equal("v2", v));
        Assert.All(sent, r => Assert.Single(worker.EventsOf(r.Id), e => e.Kind == TaskEventKind.Started));
        Assert.Contains(logs.Lines, line => line.Contains("Autoreload loaded the new", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Autoreload_refuses_a_broken_assembly_with_a_log_and_the_old_code_keeps_running()
    {
        var logs = new CapturingLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var worker = await StartAsync(
            new WorkerSettings { Concurrency = 1, Autoreload = true, AutoreloadInterval = TimeSpan.FromMilliseconds(100) },
            logging);
        var app = AppOf(worker);

        await File.WriteAllBytesAsync(app + ".new", [0x4d, 0x5a, 0x00, 0x01, 0x02]);
        File.Move(app + ".new", app, overwrite: true);
        await EventuallyAsync(() => logs.Lines.Any(line => line.Contains("Autoreload refused the new", StringComparison.Ordinal)), "the refusal is logged");
        var result = await worker.ResultAsync((await worker.SendAsync("tasks.version")).Id);

        Assert.Contains(logs.Lines, line => line.Contains("is not a .NET assembly", StringComparison.Ordinal) && line.Contains("keep running", StringComparison.Ordinal));
        Assert.Equal("v1", result.Result!.GetValue<string>());
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TestWorker, string> Apps = new();

    private static string AppOf(TestWorker worker) => Apps.TryGetValue(worker, out var app) ? app : throw new InvalidOperationException("no app");

    private static string CompileApp() =>
        TaskAssemblyCompiler.Compile(Path.Combine(Directory.CreateTempSubdirectory("cq-prefork-").FullName, "PoolTasks.dll"), TaskAssemblyCompiler.PoolTasks());

    /// <summary>A prefork node on a memory broker that runs the compiled pool tasks.</summary>
    private static async Task<TestWorker> StartAsync(WorkerSettings settings, ILoggerFactory? logging = null, string pool = "prefork")
    {
        var app = CompileApp();
        var clusterApp = OpenApp(NewBroker(TestBroker.Memory), TaskAssemblies.Load(app));
        try
        {
            var harness = await WorkerTestHarness.StartAsync(clusterApp, settings with { Pool = pool, App = app }, logging);
            var worker = new TestWorker(harness, clusterApp);
            Apps.Add(worker, app);
            return worker;
        }
        catch
        {
            await clusterApp.DisposeAsync();
            throw;
        }
    }

    private static async Task<long> PidAsync(TestWorker worker)
    {
        var result = await worker.ResultAsync((await worker.SendAsync("tasks.pid")).Id);
        Assert.Equal(TaskStates.Success, result.Status);
        return result.Result!.GetValue<long>();
    }

    private static bool IsRunning(long pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
