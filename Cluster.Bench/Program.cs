using BenchmarkDotNet.Running;
using ClusterQueue.Bench.Interop;
using ClusterQueue.Bench.Worker;

namespace ClusterQueue.Bench;

/// <summary>
/// Runs the benchmarks chosen on the command line: <c>worker-drain</c> runs the one-shot worker drain, <c>amqp-interop</c> the RabbitMQ and Python Celery comparison, <c>pool-drain</c> the threads and prefork pools against Python Celery's prefork, <c>child-round-trip</c> one prefork child's cost per task, <c>chord-join</c> a chord's join cost per member against Celery's chord_unlock, <c>sqs-drain</c> the SQS drain against a raw AWSSDK.SQS loop, <c>monitor</c> the monitor's ingest rate and SSE delay, anything else
/// goes to BenchmarkDotNet's switcher (--filter, --list).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["worker-drain", .. var rest])
        {
            return await WorkerDrainBenchmark.RunAsync(rest).ConfigureAwait(false);
        }

        if (args is ["amqp-interop", .. var interop])
        {
            return await AmqpInteropBenchmark.RunAsync(interop).ConfigureAwait(false);
        }

        if (args is ["pool-drain", .. var pools])
        {
            return await PoolDrainBenchmark.RunAsync(pools).ConfigureAwait(false);
        }

        if (args is ["child-round-trip", .. var child])
        {
            return await Pool.ChildRoundTripBenchmark.RunAsync(child).ConfigureAwait(false);
        }

        if (args is ["chord-join", .. var chord])
        {
            return await ChordJoinBenchmark.RunAsync(chord).ConfigureAwait(false);
        }

        if (args is ["sqs-drain", .. var sqs])
        {
            return await SqsDrainBenchmark.RunAsync(sqs).ConfigureAwait(false);
        }

        if (args is ["monitor", .. var monitor])
        {
            return await Monitor.MonitorBenchmark.RunAsync(monitor).ConfigureAwait(false);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
