using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Transport.Sqs;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>Worker processes on SQS: nothing is lost when one is killed with tasks in flight.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
[Trait("Server", SqsTestServer.Trait)]
public sealed class SqsWorkerProcessTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task Sigkill_with_100_late_ack_tasks_in_flight_every_one_completes_on_a_second_worker()
    {
        const int count = 100;
        await using var dir = new ProcessTestDirectory();
        var prefix = SqsTestServer.NewPrefix();
        // A short visibility timeout so the dead worker's messages come back quickly.
        var config = dir.WriteConfig($$"""
            cluster-queue.broker.sqs {
              queue-name-prefix = "{{prefix}}"
              visibility-timeout = 3s
              wait-time-seconds = 1
              polling-interval = 0s
            }
            """);
        var endpoint = new Uri(SqsTestServer.Endpoint);
        string[] common =
        [
            "-c", $"{count}", "--prefetch-multiplier", "1", "--acks-late", "-l", "debug", "--config", config,
            "--broker", $"sqs://test:test@{endpoint.Host}:{endpoint.Port}", "--result-backend", dir.ResultBackendUrl,
        ];
        await using var client = ClusterQueueApp.Open(SqsTestServer.Settings(prefix), new ResultSettings { Backend = dir.ResultBackendUrl });

        await using var first = NodeProcess.Start(dir.Path, ["worker", "-n", "first@%h", .. common]);
        await first.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the first worker to be ready", Generous);
        // Sent at once, so that the first task cannot finish before the last one starts.
        var sent = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => client.SendTaskAsync("tasks.sleep", [10])));
        var ids = sent.Select(s => s.Id).ToList();

        await first.WaitForAsync(lines => lines.Count(l => l.Contains("] started", StringComparison.Ordinal)) == count, $"all {count} tasks to be running", Generous);
        first.KillHard();
        Assert.NotEqual(0, await first.WaitForExitAsync(Generous));
        Assert.DoesNotContain(first.Lines, l => l.Contains("] succeeded", StringComparison.Ordinal));

        await using var second = NodeProcess.Start(dir.Path, ["worker", "-n", "second@%h", .. common]);
        await second.WaitForAsync(lines => lines.Count(l => l.Contains("] succeeded", StringComparison.Ordinal)) >= count, $"the second worker to finish all {count}", Generous);

        var succeeded = 0;
        foreach (var id in ids)
        {
            if (await client.Results.GetAsync(id) is { Status: TaskStates.Success, Result: JsonValue value } && value.GetValue<double>() == 10.0)
            {
                succeeded++;
            }
        }

        Assert.Equal(count, succeeded);
        await second.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await second.WaitForExitAsync(Generous));
    }
}
