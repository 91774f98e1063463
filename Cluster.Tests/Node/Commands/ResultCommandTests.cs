using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Node.Commands;

public class ResultCommandTests
{
    [Fact]
    public async Task Result_Success_PrintsStateAndValue_Exit0()
    {
        await using var kit = new CommandTestKit();
        await kit.OpenResults().StoreAsync(TaskResult.Succeeded("t-1", JsonValue.Create(5)));

        var run = await kit.RunWithBrokerAsync("result", "t-1");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"state: SUCCESS{Environment.NewLine}result: 5{Environment.NewLine}", run.Output);
    }

    [Fact]
    public async Task Result_Failure_PrintsTheExceptionAndTraceback_Exit1()
    {
        await using var kit = new CommandTestKit();
        await kit.OpenResults().StoreAsync(TaskResult.Failed("t-2", new ExceptionInfo("KeyError", [JsonValue.Create("k")], "builtins"), "Traceback: line 1"));

        var run = await kit.RunWithBrokerAsync("result", "t-2");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("state: FAILURE", run.Output, StringComparison.Ordinal);
        Assert.Contains("exception: task t-2 failed: builtins.KeyError: k", run.Output, StringComparison.Ordinal);
        Assert.Contains("Traceback: line 1", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Result_UnknownId_IsPending_Exit1_WithAReasonOnStderr()
    {
        await using var kit = new CommandTestKit();

        var run = await kit.RunWithBrokerAsync("result", "never-sent");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Equal($"state: PENDING{Environment.NewLine}", run.Output);
        Assert.Contains("no result stored for task never-sent", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResultJson_PrintsOneParseableObject()
    {
        await using var kit = new CommandTestKit();
        await kit.OpenResults().StoreAsync(TaskResult.Succeeded("t-3", new JsonArray(1, 2)));

        var run = await kit.RunWithBrokerAsync("result", "t-3", "--json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        using var json = JsonDocument.Parse(run.Output);
        Assert.Equal("t-3", json.RootElement.GetProperty("task_id").GetString());
        Assert.Equal("SUCCESS", json.RootElement.GetProperty("state").GetString());
        Assert.Equal("[1,2]", json.RootElement.GetProperty("result").GetRawText());
        Assert.NotEqual(JsonValueKind.Null, json.RootElement.GetProperty("date_done").ValueKind);
    }

    [Fact]
    public async Task ResultTimeout_WaitsForAResultStoredLater()
    {
        await using var kit = new CommandTestKit();
        var results = kit.OpenResults();
        var running = kit.RunWithBrokerAsync("result", "t-4", "--timeout", "30");
        await results.StoreAsync(TaskResult.Succeeded("t-4", JsonValue.Create("late")));

        var run = await running;

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("result: \"late\"", run.Output, StringComparison.Ordinal);
    }
}
