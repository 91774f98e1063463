using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Tests.Node.Commands;
using ClusterQueue.Tests.Node.Processes;
using ClusterQueue.Tests.Transport.Amqp;

namespace ClusterQueue.Tests.Interop;

/// <summary>The worker, call, result and purge commands against RabbitMQ, each test on a vhost of its own.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", AmqpTestBroker.Trait)]
[Trait("Category", "Process")]
public sealed class AmqpCommandTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task A_worker_on_two_queues_answers_call_wait_from_each_over_rpc()
    {
        var broker = AmqpTestBroker.UrlOf(AmqpTestBroker.NewVhost());
        await using var dir = new ProcessTestDirectory();
        await using var worker = await StartWorkerAsync(dir, broker, "rpc://", "alpha,beta");

        var fromAlpha = await CommandTestKit.RunAsync("call", "tasks.add", "-a", "[2, 2]", "-Q", "alpha", "--wait", "--timeout", "60", "--broker", broker, "--result-backend", "rpc://");
        var fromBeta = await CommandTestKit.RunAsync("call", "tasks.mul", "-a", "[3, 4]", "-Q", "beta", "--wait", "--timeout", "60", "--broker", broker, "--result-backend", "rpc://");

        Assert.Equal((ExitCodes.Ok, "4"), (fromAlpha.ExitCode, fromAlpha.Output.Trim()));
        Assert.Equal((ExitCodes.Ok, "12"), (fromBeta.ExitCode, fromBeta.Output.Trim()));
        // The reply can reach the caller before the worker has written its log line.
        await worker.WaitForLineAsync(l => l.Contains("tasks.add[", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal), "tasks.add succeeded", Generous);
        await worker.WaitForLineAsync(l => l.Contains("tasks.mul[", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal), "tasks.mul succeeded", Generous);
        await StopAsync(worker);
    }

    [Fact]
    public async Task Call_then_result_reads_the_outcome_from_a_shared_store_while_tasks_travel_over_RabbitMQ()
    {
        var broker = AmqpTestBroker.UrlOf(AmqpTestBroker.NewVhost());
        await using var dir = new ProcessTestDirectory();
        await using var worker = await StartWorkerAsync(dir, broker, dir.ResultBackendUrl, "celery");

        var call = await CommandTestKit.RunAsync("call", "tasks.add", "-a", "[20, 22]", "--broker", broker, "--result-backend", dir.ResultBackendUrl);
        var id = call.Output.Trim();
        var result = await CommandTestKit.RunAsync("result", id, "--timeout", "60", "--json", "--result-backend", dir.ResultBackendUrl);

        Assert.Equal(ExitCodes.Ok, call.ExitCode);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var printed = JsonNode.Parse(result.Output)!;
        Assert.Equal("SUCCESS", printed["state"]!.GetValue<string>());
        Assert.Equal(42, printed["result"]!.GetValue<long>());
        await StopAsync(worker);
    }

    [Fact]
    public async Task Result_with_rpc_is_refused_naming_why_since_rpc_results_go_to_the_senders_own_reply_queue()
    {
        var run = await CommandTestKit.RunAsync("result", Guid.NewGuid().ToString(), "--result-backend", "rpc://");

        Assert.NotEqual(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("rpc://", run.Error, StringComparison.Ordinal);
        Assert.Contains("broker", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_on_RabbitMQ_empties_the_named_queues_and_counts_per_queue()
    {
        var broker = AmqpTestBroker.UrlOf(AmqpTestBroker.NewVhost());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ExitCodes.Ok, (await CommandTestKit.RunAsync("call", "tasks.noop", "--broker", broker)).ExitCode);
        }

        Assert.Equal(ExitCodes.Ok, (await CommandTestKit.RunAsync("call", "tasks.noop", "-Q", "other", "--broker", broker)).ExitCode);

        var run = await CommandTestKit.RunAsync("purge", "-Q", "celery,other", "--force", "--broker", broker);
        var again = await CommandTestKit.RunAsync("purge", "-Q", "celery,other", "--force", "--broker", broker);

        var nl = Environment.NewLine;
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"celery: 3{nl}other: 1{nl}Purged 4 messages from 2 known task queues.{nl}", run.Output);
        Assert.Equal($"celery: 0{nl}other: 0{nl}Purged 0 messages from 2 known task queues.{nl}", again.Output);
    }

    private static async Task<NodeProcess> StartWorkerAsync(ProcessTestDirectory dir, string broker, string results, string queues)
    {
        var worker = NodeProcess.Start(dir.Path, "worker", "-c", "2", "-Q", queues, "-l", "info", "--broker", broker, "--result-backend", results);
        try
        {
            await worker.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the worker to be ready", Generous);
            return worker;
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
    }

    private static async Task StopAsync(NodeProcess worker)
    {
        await worker.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await worker.WaitForExitAsync(Generous));
    }
}
