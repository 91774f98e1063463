using System.Diagnostics;
using System.Text;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ClusterQueue.Bench.Interop;

/// <summary>
/// Our worker on RabbitMQ against the floor (bare RabbitMQ.Client) and against a Python Celery worker (prefork, -c 2):
/// the drain rate of a queue pre-filled with Celery-format <c>tasks.noop</c> messages, and the round trip of
/// <c>tasks.add(2, 2)</c> through rpc:// (p50, p99). One-shot figures, so a plain Stopwatch runner:
/// <c>dotnet run -c Release --project Cluster.Bench -- amqp-interop [--drain N] [--python-drain N] [--round-trips N] [--no-python]</c>.
/// The broker is CQ_BENCH_AMQP_URL, or CQ_TEST_AMQP_URL as scripts/test-servers/rabbitmq.sh exports it.
/// </summary>
public static class AmqpInteropBenchmark
{
    internal const string Queue = "celery";
    internal const int Concurrency = 2;
    private static readonly TimeSpan PythonPatience = TimeSpan.FromMinutes(10);

    /// <summary>The broker of the RabbitMQ runners: CQ_BENCH_AMQP_URL, or CQ_TEST_AMQP_URL as the test servers script exports it.</summary>
    internal static string BrokerUrl() =>
        Environment.GetEnvironmentVariable("CQ_BENCH_AMQP_URL") is { Length: > 0 } bench ? bench
        : Environment.GetEnvironmentVariable("CQ_TEST_AMQP_URL") is { Length: > 0 } test ? test
        : throw new InvalidOperationException("set CQ_BENCH_AMQP_URL to a RabbitMQ URL (amqp://user:pass@127.0.0.1:5672/), or start scripts/test-servers/rabbitmq.sh");

    public static async Task<int> RunAsync(string[] args)
    {
        var url = BrokerUrl();
        var drain = OneShotArguments.ReadInt(args, "--drain", 100_000);
        var pythonDrain = OneShotArguments.ReadInt(args, "--python-drain", 20_000);
        var roundTrips = OneShotArguments.ReadInt(args, "--round-trips", 1_000);
        var python = args.Contains("--no-python") ? null : PythonCeleryProcess.Find();
        Console.WriteLine($"amqp-interop: {url}, worker concurrency {Concurrency}, prefetch multiplier 4, {Environment.ProcessorCount} CPUs");

        var rawRate = await DrainRawAsync(url, drain);
        var ourRate = await DrainWithOurWorkerAsync(url, drain);
        Console.WriteLine($"drain   {drain,7:N0} tasks.noop  raw consume+ack {rawRate,8:N0} msg/s  our worker {ourRate,8:N0} msg/s  ours/raw {ourRate / rawRate,6:P0}");

        var raw = await RoundTripRawAsync(url, roundTrips);
        var ours = await RoundTripOurWorkerAsync(url, roundTrips);
        Console.WriteLine($"rpc     {roundTrips,7:N0} x tasks.add(2, 2)  raw request/reply p50 {raw.P50,7:F2} ms p99 {raw.P99,7:F2} ms  |  our worker p50 {ours.P50,7:F2} ms p99 {ours.P99,7:F2} ms  ours/raw p50 {ours.P50 / raw.P50,5:F2}x");

        if (python is null)
        {
            Console.WriteLine("python  skipped: no /usr/bin/python3 with celery (or --no-python)");
            return 0;
        }

        var pythonRate = await DrainWithPythonAsync(url, python, pythonDrain);
        var pythonTrip = await RoundTripPythonAsync(url, python, Math.Max(100, roundTrips / 4));
        Console.WriteLine($"python  drain {pythonDrain,7:N0} msgs {pythonRate,8:N0} msg/s (ours/python {ourRate / pythonRate,5:F2}x)  |  rpc p50 {pythonTrip.P50,7:F2} ms p99 {pythonTrip.P99,7:F2} ms (python/ours p50 {pythonTrip.P50 / ours.P50,5:F2}x)");
        return 0;
    }

    internal static async Task<double> DrainRawAsync(string url, int count)
    {
        await PrefillAsync(url, count, Noop);
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, Concurrency * 4, global: false);
        var done = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            if (++done == count)
            {
                drained.TrySetResult();
            }
        };
        await channel.BasicConsumeAsync(Queue, autoAck: false, consumer);
        var clock = Stopwatch.StartNew();
        await drained.Task;
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Timed from the moment the node's consumers are up, as the raw loop is timed from its subscribe.</summary>
    internal static async Task<double> DrainWithOurWorkerAsync(string url, int count, PrefillTask? task = null, string pool = "threads")
    {
        await PrefillAsync(url, count, task ?? Noop);
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        await using var app = ClusterQueueApp.Open(new BrokerSettings { Url = url }, tasks: tasks);
        var settings = new WorkerSettings { Concurrency = Concurrency, Pool = pool, StateDb = OneShotArguments.TempStateDb("interop-bench") };
        var worker = await WorkerNode.StartAsync(settings, app);
        var clock = Stopwatch.StartNew();
        var doneAtStart = worker.Stats.Succeeded;
        // The counters see every task, whereas an event handler added now could miss the first few.
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
        while (worker.Stats.Succeeded + worker.Stats.Failed < count)
        {
            await tick.WaitForNextTickAsync();
        }

        var rate = (count - doneAtStart) / clock.Elapsed.TotalSeconds;
        await worker.WarmShutdownAsync();
        return rate;
    }

    /// <summary>Python's rate from the first message taken to an empty queue, so its start-up time does not count.</summary>
    internal static async Task<double> DrainWithPythonAsync(string url, PythonCeleryProcess python, int count, PrefillTask? task = null)
    {
        await PrefillAsync(url, count, task ?? Noop);
        await using var probe = await QueueProbe.OpenAsync(url);
        await using var worker = await python.StartWorkerAsync(url);
        using var limit = new CancellationTokenSource(PythonPatience);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        Stopwatch? clock = null;
        uint atStart = 0;
        while (await tick.WaitForNextTickAsync(limit.Token))
        {
            var (ready, consumers) = await probe.CountAsync(Queue);
            if (clock is null && ready < count)
            {
                clock = Stopwatch.StartNew();
                atStart = ready;
            }

            // Python acks before running (early ack), so an empty queue leaves at most its prefetch window to run.
            if (clock is not null && ready == 0 && consumers > 0)
            {
                return atStart / clock.Elapsed.TotalSeconds;
            }
        }

        throw new TimeoutException("the Python worker did not drain the queue");
    }

    private static async Task<Percentiles> RoundTripRawAsync(string url, int count)
    {
        const string requests = "cq.bench.rr";
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var server = await connection.CreateChannelAsync();
        await using var client = await connection.CreateChannelAsync();
        // The same guarantees a Celery task has: a durable queue, a persistent request, and an ack after the reply.
        await server.QueueDeclareAsync(requests, durable: true, exclusive: false, autoDelete: false);
        await server.BasicQosAsync(0, Concurrency * 4, global: false);
        var responder = new AsyncEventingBasicConsumer(server);
        responder.ReceivedAsync += async (_, request) =>
        {
            var reply = new BasicProperties { CorrelationId = request.BasicProperties.CorrelationId, ContentType = "application/json" };
            await server.BasicPublishAsync("", request.BasicProperties.ReplyTo!, mandatory: false, reply, Encoding.UTF8.GetBytes("4"));
            await server.BasicAckAsync(request.DeliveryTag, multiple: false);
        };
        await server.BasicConsumeAsync(requests, autoAck: false, responder);

        var replyQueue = (await client.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        TaskCompletionSource? waiting = null;
        var replies = new AsyncEventingBasicConsumer(client);
        replies.ReceivedAsync += (_, _) =>
        {
            waiting!.TrySetResult();
            return Task.CompletedTask;
        };
        await client.BasicConsumeAsync(replyQueue, autoAck: true, replies);
        var body = Encoding.UTF8.GetBytes("[[2, 2], {}, {}]");
        try
        {
            return await MeasureAsync(count, async () =>
            {
                waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var properties = new BasicProperties
                {
                    CorrelationId = Guid.NewGuid().ToString(), ReplyTo = replyQueue, ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent,
                };
                await client.BasicPublishAsync("", requests, mandatory: false, properties, body);
                await waiting.Task;
            });
        }
        finally
        {
            await client.QueueDeleteAsync(requests);
        }
    }

    private static async Task<Percentiles> RoundTripOurWorkerAsync(string url, int count)
    {
        var tasks = new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly);
        var rpc = new ResultSettings { Backend = "rpc://" };
        await using var workerApp = ClusterQueueApp.Open(new BrokerSettings { Url = url }, rpc, tasks: tasks);
        await using var client = ClusterQueueApp.Open(new BrokerSettings { Url = url }, rpc);
        var worker = await WorkerNode.StartAsync(new WorkerSettings { Concurrency = Concurrency, StateDb = OneShotArguments.TempStateDb("interop-bench") }, workerApp);
        try
        {
            return await MeasureAsync(count, () => AddAsync(client));
        }
        finally
        {
            await worker.WarmShutdownAsync();
        }
    }

    private static async Task<Percentiles> RoundTripPythonAsync(string url, PythonCeleryProcess python, int count)
    {
        await using var worker = await python.StartWorkerAsync(url);
        await using var client = ClusterQueueApp.Open(new BrokerSettings { Url = url }, new ResultSettings { Backend = "rpc://" });
        return await MeasureAsync(count, () => AddAsync(client));
    }

    private static async Task AddAsync(ClusterQueueApp client)
    {
        var sent = await client.DelayAsync("tasks.add", 2, 2);
        if (await sent.GetAsync<long>(TimeSpan.FromSeconds(60)) != 4)
        {
            throw new InvalidOperationException("tasks.add(2, 2) did not return 4");
        }
    }

    /// <summary>Times <paramref name="count"/> sequential calls after a warm-up of a tenth as many.</summary>
    private static async Task<Percentiles> MeasureAsync(int count, Func<Task> call)
    {
        for (var i = 0; i < Math.Max(10, count / 10); i++)
        {
            await call();
        }

        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(samples);
        return new Percentiles(samples[count / 2], samples[Math.Min(count - 1, (int)Math.Ceiling(count * 0.99) - 1)]);
    }

    /// <summary>A task every prefilled message calls.</summary>
    internal sealed record PrefillTask(string Name, params object?[] Args);

    private static readonly PrefillTask Noop = new("tasks.noop");

    /// <summary>Empties the task queue, then fills it with Celery-format messages of <paramref name="task"/> and waits until all are in.</summary>
    private static async Task PrefillAsync(string url, int count, PrefillTask task)
    {
        await using (var app = ClusterQueueApp.Open(new BrokerSettings { Url = url }))
        {
            await app.DeclareQueueAsync(Queue);
            await app.Transport.PurgeQueueAsync(Queue);
            foreach (var slice in Enumerable.Range(0, count).Chunk(1_000))
            {
                await Task.WhenAll(slice.Select(_ => app.ApplyAsync(task.Name, task.Args, options: new SendOptions { IgnoreResult = true })));
            }
        }

        await using var probe = await QueueProbe.OpenAsync(url);
        while ((await probe.CountAsync(Queue)).Ready < count)
        {
            await Task.Delay(50);
        }
    }

    private readonly record struct Percentiles(double P50, double P99);

    /// <summary>Reads a queue's ready-message and consumer counts with a passive declare.</summary>
    private sealed class QueueProbe(IConnection connection, IChannel channel) : IAsyncDisposable
    {
        public static async Task<QueueProbe> OpenAsync(string url)
        {
            var connection = await new ConnectionFactory { Uri = new Uri(url) }.CreateConnectionAsync();
            return new QueueProbe(connection, await connection.CreateChannelAsync());
        }

        public async Task<(uint Ready, uint Consumers)> CountAsync(string queue)
        {
            var declared = await channel.QueueDeclarePassiveAsync(queue);
            return (declared.MessageCount, declared.ConsumerCount);
        }

        public async ValueTask DisposeAsync()
        {
            await channel.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
