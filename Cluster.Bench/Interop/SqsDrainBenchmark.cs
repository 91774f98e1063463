using System.Diagnostics;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Sqs;

namespace ClusterQueue.Bench.Interop;

/// <summary>
/// Our worker on SQS against the floor, a bare AWSSDK.SQS receive+delete loop, in one run on one server: the drain
/// rate of a queue pre-filled with Celery-format <c>tasks.noop</c> messages, and the SQS requests each task costs,
/// which is what real SQS bills. One-shot figures, so a plain Stopwatch runner:
/// <c>dotnet run -c Release --project Cluster.Bench -- sqs-drain [--drain N] [--concurrency N]</c>.
/// The server is CQ_BENCH_SQS_ENDPOINT, or CQ_TEST_SQS_ENDPOINT as scripts/test-servers/sqs.sh exports it.
/// </summary>
public static class SqsDrainBenchmark
{
    private const string Queue = "celery";

    public static async Task<int> RunAsync(string[] args)
    {
        var endpoint = Environment.GetEnvironmentVariable("CQ_BENCH_SQS_ENDPOINT") is { Length: > 0 } bench ? bench
            : Environment.GetEnvironmentVariable("CQ_TEST_SQS_ENDPOINT") is { Length: > 0 } test ? test
            : throw new InvalidOperationException("set CQ_BENCH_SQS_ENDPOINT to an SQS endpoint, or start scripts/test-servers/sqs.sh");
        var count = OneShotArguments.ReadInt(args, "--drain", 20_000);
        var concurrency = OneShotArguments.ReadInt(args, "--concurrency", 4);
        Console.WriteLine($"sqs-drain: {endpoint}, {count:N0} tasks.noop, worker concurrency {concurrency}, prefetch multiplier 4, {Environment.ProcessorCount} CPUs");

        var raw = await DrainRawAsync(endpoint, count);
        var ours = await DrainWithOurWorkerAsync(endpoint, count, concurrency);
        Console.WriteLine(
            $"drain   raw receive+delete {raw.Rate,8:N0} msg/s ({raw.RequestsPerTask:0.000} requests/task)  "
            + $"our worker {ours.Rate,8:N0} msg/s ({ours.RequestsPerTask:0.000} requests/task)  ours/raw {ours.Rate / raw.Rate,6:P0}");
        return 0;
    }

    /// <summary>The floor: one loop that receives ten and deletes them in one batch, as fast as the server answers.</summary>
    private static async Task<Figure> DrainRawAsync(string endpoint, int count)
    {
        var prefix = NewPrefix();
        await PrefillAsync(endpoint, prefix, count);
        using var client = new AmazonSQSClient(new BasicAWSCredentials("bench", "bench"), new AmazonSQSConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" });
        var url = (await client.GetQueueUrlAsync(SqsTransport.QueueName(prefix, Queue))).QueueUrl;
        var clock = Stopwatch.StartNew();
        var done = 0;
        var requests = 0;
        while (done < count)
        {
            var received = await client.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = url, MaxNumberOfMessages = 10, WaitTimeSeconds = 1 });
            requests++;
            if (received.Messages is not { Count: > 0 } messages)
            {
                continue;
            }

            await client.DeleteMessageBatchAsync(new DeleteMessageBatchRequest
            {
                QueueUrl = url,
                Entries = [.. messages.Select((m, i) => new DeleteMessageBatchRequestEntry { Id = i.ToString(), ReceiptHandle = m.ReceiptHandle })],
            });
            requests++;
            done += messages.Count;
        }

        return new Figure(count / clock.Elapsed.TotalSeconds, requests / (double)count);
    }

    /// <summary>Timed from the moment the node's consumer is up, as the raw loop is timed from its first receive.</summary>
    private static async Task<Figure> DrainWithOurWorkerAsync(string endpoint, int count, int concurrency)
    {
        var prefix = NewPrefix();
        await PrefillAsync(endpoint, prefix, count);
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        await using var app = ClusterQueueApp.Open(Settings(endpoint, prefix), tasks: tasks);
        var transport = (SqsTransport)app.Transport;
        var worker = await WorkerNode.StartAsync(new WorkerSettings { Concurrency = concurrency, StateDb = OneShotArguments.TempStateDb("sqs-bench") }, app);
        var clock = Stopwatch.StartNew();
        var requestsAtStart = transport.RequestCount;
        var doneAtStart = worker.Stats.Succeeded;
        // The counters see every task, whereas an event handler added now could miss the first few.
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        while (worker.Stats.Succeeded + worker.Stats.Failed < count)
        {
            await tick.WaitForNextTickAsync();
        }

        var elapsed = clock.Elapsed;
        var drained = count - doneAtStart;
        await worker.WarmShutdownAsync();
        // Acks still in flight when the last task finished are part of the cost.
        return new Figure(drained / elapsed.TotalSeconds, (transport.RequestCount - requestsAtStart) / (double)drained);
    }

    private static async Task PrefillAsync(string endpoint, string prefix, int count)
    {
        await using var app = ClusterQueueApp.Open(Settings(endpoint, prefix));
        await app.DeclareQueueAsync(Queue);
        foreach (var slice in Enumerable.Range(0, count).Chunk(500))
        {
            await Task.WhenAll(slice.Select(_ => app.SendTaskAsync("tasks.noop", options: new SendOptions { IgnoreResult = true })));
        }
    }

    private static BrokerSettings Settings(string endpoint, string prefix) => new()
    {
        Url = "sqs://bench:bench@",
        Sqs = new SqsSettings { Endpoint = endpoint, QueueNamePrefix = prefix, WaitTimeSeconds = 1 },
    };

    private static string NewPrefix() => "bench" + Guid.NewGuid().ToString("N")[..8] + "-";

    private readonly record struct Figure(double Rate, double RequestsPerTask);
}
