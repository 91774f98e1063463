using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Node.Commands;

public class CallCommandTests
{
    [Fact]
    public async Task Call_PublishesACeleryMessage_WithArgsKwargsQueueAndPriority_AndPrintsItsId()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.add", "--args", "[2, 3]", "--kwargs", "{\"z\": 1}", "--queue", "math", "--priority", "7", "--expires", "30");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Error);
        var message = await kit.TakeAsync("math");
        Assert.Equal(run.Output.Trim(), message.Id);
        Assert.Equal("tasks.add", message.Task);
        Assert.Equal("[2,3]", message.Args.ToJsonString());
        Assert.Equal("{\"z\":1}", message.Kwargs.ToJsonString());
        Assert.Equal((byte)7, message.Priority);
        Assert.NotNull(message.Expires);
        Assert.InRange(message.Expires.Value, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(31));
    }

    [Fact]
    public async Task Call_TaskId_SendsTheTaskUnderThatId()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--task-id", "nightly-report-2026-12-03");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("nightly-report-2026-12-03", run.Output.Trim());
        Assert.Equal("nightly-report-2026-12-03", (await kit.TakeAsync()).Id);
    }

    [Fact]
    public async Task Call_EmptyTaskId_IsAUsageErrorNamingTheOption()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--task-id", " ");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--task-id must not be empty", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_ExchangeAndRoutingKey_RouteTheTaskToTheBoundQueue()
    {
        await using var kit = new CommandTestKit();
        // A topic exchange that an operator set up, with the reports queue bound under report.*.
        var broker = kit.OpenBroker();
        await broker.DeclareExchangeAsync(new ClusterQueue.Transport.ExchangeDeclaration("tasks", ClusterQueue.Transport.ExchangeType.Topic));
        await broker.DeclareQueueAsync(new ClusterQueue.Transport.QueueDeclaration("reports"));
        await broker.BindQueueAsync(new ClusterQueue.Transport.QueueBinding("reports", "tasks", "report.*"));
        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--exchange", "tasks", "--routing-key", "report.daily");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(run.Output.Trim(), (await kit.TakeAsync("reports")).Id);
    }

    [Fact]
    public async Task Call_RoutingKeyWithoutExchange_IsAUsageErrorNamingBoth()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--routing-key", "reports");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--routing-key needs --exchange", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_EtaWithoutOffset_IsTakenAsUtc()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--eta", "2020-01-02T03:04:05");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var message = await kit.TakeAsync();
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), message.Eta);
    }

    [Fact]
    public async Task CallWait_PrintsTheResultAsJson()
    {
        await using var kit = new CommandTestKit();
        var worker = AnswerOneTaskAsync(kit, m => TaskResult.Succeeded(m.Id, new JsonObject { ["sum"] = m.Args.Sum(a => a!.GetValue<long>()) }));

        var run = await kit.RunWithBrokerAsync("call", "tasks.add", "--args", "[2, 40]", "--wait", "--timeout", "30");

        await worker;
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("{\"sum\":42}", run.Output.Trim());
    }

    [Fact]
    public async Task CallWait_FailedTask_PrintsTheRemoteExceptionAndExits1()
    {
        await using var kit = new CommandTestKit();
        var worker = AnswerOneTaskAsync(kit, m => TaskResult.Failed(
            m.Id,
            new ExceptionInfo("ValueError", [JsonValue.Create("boom in " + m.Task)], "builtins"),
            "Traceback (most recent call last): ..."));

        var run = await kit.RunWithBrokerAsync("call", "tasks.fail", "--args", "[\"x\"]", "--wait", "--timeout", "30");

        var message = await worker;
        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Equal($"task {message.Id} failed: builtins.ValueError: boom in tasks.fail", run.Error.Trim());
    }

    [Fact]
    public async Task CallWait_NoWorker_TimesOutWithExit1_AndNamesTheTask()
    {
        await using var kit = new CommandTestKit();
        var run = await kit.RunWithBrokerAsync("call", "tasks.add", "--args", "[1, 1]", "--wait", "--timeout", "0.2");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        var message = await kit.TakeAsync();
        Assert.Equal($"no result for task {message.Id} within 0.2 s", run.Error.Trim());
    }

    [Fact]
    public async Task Call_ConfigFileBroker_IsOverriddenByTheBrokerFlag()
    {
        await using var kit = new CommandTestKit();
        var other = "memory://cli-other-" + Guid.NewGuid().ToString("N");
        var config = Path.Combine(kit.Directory, "node.conf");
        await File.WriteAllTextAsync(config, $"cluster-queue.broker.url = \"{other}\"\ncluster-queue.publish.default-queue = from-file\n");

        var run = await kit.RunWithBrokerAsync("call", "tasks.noop", "--config", config);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var message = await kit.TakeAsync("from-file");
        Assert.Equal(run.Output.Trim(), message.Id);
    }

    /// <summary>Plays the worker: takes one task message and stores the result <paramref name="answer"/> makes of it.</summary>
    private static async Task<ClusterQueue.Protocol.TaskMessage> AnswerOneTaskAsync(CommandTestKit kit, Func<ClusterQueue.Protocol.TaskMessage, TaskResult> answer)
    {
        var message = await kit.TakeAsync();
        await kit.OpenResults().StoreAsync(answer(message));
        return message;
    }
}
