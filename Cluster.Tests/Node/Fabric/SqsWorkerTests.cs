using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using ClusterQueue.Client;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Sqs;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>Worker nodes on SQS: no redelivery loops for long tasks and long ETAs, remote control on the cluster, dead letters.</summary>
[Trait("Server", SqsTestServer.Trait)]
public sealed class SqsWorkerTests : IAsyncLifetime
{
    private static readonly Dictionary<string, int> Runs = [];
    private readonly string prefix = SqsTestServer.NewPrefix();
    private ClusterKit? kit;

    private ClusterKit Kit => kit ?? throw new InvalidOperationException("no kit yet");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (kit is not null)
        {
            await kit.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_late_ack_task_that_runs_three_visibility_timeouts_runs_exactly_once_on_two_workers()
    {
        kit = ClusterKit.Create(ClusterBroker.Sqs, SqsTestServer.Settings(prefix, s => s with { VisibilityTimeout = TimeSpan.FromSeconds(2) }));
        var app = Kit.App(RegisterSlow);
        await Kit.StartAsync(Kit.Settings("one@sqs"), app);
        await Kit.StartAsync(Kit.Settings("two@sqs"), app);
        var key = TestTasks.NewKey("slow");

        var sent = await app.ApplyAsync("test.slow_late", [key, 6.0]);
        var result = await app.Results.WaitAsync(sent.Id, ClusterKit.Patience);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(1, RunsOf(key));
        // The other worker would have been handed the message if its visibility had run out.
        Assert.Equal(1L, Kit.StartedNodes.Sum(n => n.Stats.Received));
    }

    [Fact]
    public async Task A_countdown_far_beyond_the_visibility_timeout_runs_once_at_its_time()
    {
        // A 20-minute countdown with a 30 s visibility timeout, scaled: 9 s with 1 s, in delay steps of 2 s instead of 900 s.
        var broker = SqsTestServer.Settings(prefix, s => s with { VisibilityTimeout = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(2) });
        kit = ClusterKit.Create(ClusterBroker.Sqs, broker);
        var app = Kit.App(RegisterSlow);
        var node = await Kit.StartAsync(Kit.Settings("eta@sqs"), app);
        var key = TestTasks.NewKey("eta");

        var due = DateTimeOffset.UtcNow.AddSeconds(9);
        var sent = await app.ApplyAsync("test.slow_late", [key, 0.0], options: new SendOptions { Eta = due });
        var result = await app.Results.WaitAsync(sent.Id, ClusterKit.Patience);

        Assert.Equal(TaskStates.Success, result.Status);
        Assert.Equal(1, RunsOf(key));
        Assert.Equal(1L, node.Stats.Received);
        Assert.True(result.DateDone >= due.UtcDateTime, $"done at {result.DateDone:O}, before its ETA {due:O}");
        Assert.True(((SqsTransport)app.Transport).RedelayedCount >= 3, "the ETA was reached in delay steps");
    }

    [Fact]
    public async Task Ping_rate_limit_and_revoke_reach_two_sqs_workers_over_the_cluster()
    {
        kit = ClusterKit.Create(ClusterBroker.Sqs, SqsTestServer.Settings(prefix));
        var app = Kit.App();
        var a = await Kit.StartAsync(Kit.Settings("a@sqs"), app);
        var b = await Kit.StartAsync(Kit.Settings("b@sqs"), app);
        await using var client = ClusterKit.ClusterClient(a);

        await ClusterKit.EventuallyAsync(
            () => client.PingAsync(timeout: TimeSpan.FromSeconds(1)).GetAwaiter().GetResult().Count == 2, "both SQS workers to answer a ping over the cluster");
        var limited = await client.RateLimitAsync("tasks.add", "7/s", timeout: ClusterKit.Patience, target: ControlTarget.Nodes("a@sqs", "b@sqs"));
        var revokedId = Uuid.NewId();
        var revoked = await client.RevokeAsync([revokedId], timeout: ClusterKit.Patience, target: ControlTarget.Nodes("a@sqs", "b@sqs"));
        await app.ApplyAsync("tasks.add", [1, 2], options: new SendOptions { TaskId = revokedId });
        var outcome = await app.Results.WaitAsync(revokedId, ClusterKit.Patience);

        Assert.Equal(["a@sqs", "b@sqs"], limited.Select(r => r.Node).Order());
        Assert.All(limited, r => Assert.Contains("new rate limit set successfully", r.Value!.ToJsonString()));
        Assert.Equal(["a@sqs", "b@sqs"], revoked.Select(r => r.Node).Order());
        Assert.Equal(TaskStates.Revoked, outcome.Status);
        Assert.Contains(revokedId, a.Revoked.Snapshot());
        Assert.Contains(revokedId, b.Revoked.Snapshot());
        Assert.Equal(0L, a.Stats.Started + b.Stats.Started);
    }

    [Fact]
    public async Task An_unknown_task_goes_to_the_queues_dlq_with_the_reason_as_an_attribute()
    {
        kit = ClusterKit.Create(ClusterBroker.Sqs, SqsTestServer.Settings(prefix));
        var app = Kit.App();
        await Kit.StartAsync(Kit.Settings("dlq@sqs"), app);

        var sent = await app.SendTaskAsync("tasks.nobody_has_this");
        var result = await app.Results.WaitAsync(sent.Id, ClusterKit.Patience);

        Assert.Equal(TaskStates.Failure, result.Status);
        using var raw = SqsTestServer.RawClient();
        var url = (await raw.GetQueueUrlAsync(prefix + "celery-dlq")).QueueUrl;
        var dead = await raw.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = url, MessageAttributeNames = ["All"], WaitTimeSeconds = 5 });
        var message = Assert.Single(dead.Messages);
        Assert.Contains("unknown task 'tasks.nobody_has_this'", message.MessageAttributes[DeadLetter.ReasonHeader].StringValue, StringComparison.Ordinal);
        var decoded = KombuMessage.Decode(message.Body, "celery.dlq");
        Assert.Equal(sent.Id, decoded.Message.Headers["id"]);
    }

    /// <summary>A late-ack task that records each run and sleeps for the given seconds.</summary>
    private static void RegisterSlow(TaskRegistry tasks) =>
        tasks.Register("test.slow_late", async (string key, double seconds, CancellationToken cancellationToken) =>
        {
            lock (Runs)
            {
                Runs[key] = Runs.GetValueOrDefault(key) + 1;
            }

            await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
            return key;
        }, new TaskOptions { AcksLate = true });

    private static int RunsOf(string key)
    {
        lock (Runs)
        {
            return Runs.GetValueOrDefault(key);
        }
    }
}
