using System.Diagnostics;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Amqp;

namespace ClusterQueue.Tests.Transport.Amqp;

/// <summary>The private RabbitMQ that test.sh starts: its URL, a vhost of its own for each test, and rabbitmqctl.</summary>
internal static class AmqpTestBroker
{
    public const string Trait = "RabbitMQ";

    private static int lastVhost;

    /// <summary>The broker URL from CQ_TEST_AMQP_URL; a missing one fails the test, since a skipped test proves nothing.</summary>
    public static string Url => Environment.GetEnvironmentVariable("CQ_TEST_AMQP_URL") is { Length: > 0 } url
        ? url
        : throw new InvalidOperationException(
            "CQ_TEST_AMQP_URL is not set: run the tests through ./test.sh, which starts a private RabbitMQ and sets it");

    /// <summary>A vhost no other test uses; test.sh creates cq-test-1 … cq-test-N up front (CQ_TEST_AMQP_VHOSTS).</summary>
    public static string NewVhost()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("CQ_TEST_AMQP_VHOSTS"), out var n) ? n : 0;
        var next = Interlocked.Increment(ref lastVhost);
        if (next > count)
        {
            throw new InvalidOperationException(
                $"the tests need more than the {count} vhosts that test.sh created (CQ_TEST_AMQP_VHOSTS); raise RABBITMQ_TEST_VHOSTS");
        }

        return $"cq-test-{next}";
    }

    public static string UrlOf(string vhost) => Url.TrimEnd('/') + "/" + Uri.EscapeDataString(vhost);

    public static BrokerSettings Settings(string vhost, AmqpSettings? amqp = null) => new()
    {
        Url = UrlOf(vhost),
        Amqp = amqp ?? new AmqpSettings { ConfirmPublish = true },
    };

    public static AmqpTransport Open(string vhost, AmqpSettings? amqp = null) =>
        (AmqpTransport)TransportRegistry.CreateDefault().Open(Settings(vhost, amqp));

    /// <summary>Runs rabbitmqctl against the private node; a non-zero exit fails with its output.</summary>
    public static async Task RabbitMqCtlAsync(params string[] arguments)
    {
        var tool = Environment.GetEnvironmentVariable("CQ_TEST_RABBITMQCTL") is { Length: > 0 } path
            ? path
            : throw new InvalidOperationException("CQ_TEST_RABBITMQCTL is not set: run the tests through ./test.sh");
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {tool}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await errors}");
        }
    }
}
