using System.Globalization;
using System.Text;
using ClusterQueue.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Peer;

/// <summary>Peer roles that publish to and consume from a shared SQLite broker file.</summary>
internal static class SqlitePeerRoles
{
    /// <summary><c>sqlite-publish &lt;db&gt; &lt;queue&gt; &lt;count&gt;</c>: publishes bodies "0" … "count-1", then prints "published".</summary>
    public static async Task<int> PublishAsync(string[] args)
    {
        if (args.Length != 3 || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var count))
        {
            Console.Error.WriteLine("usage: sqlite-publish <db> <queue> <count>");
            return 2;
        }

        await using var transport = Open(args[0], TimeSpan.FromSeconds(30));
        await transport.DeclareQueueAsync(new QueueDeclaration(args[1]));
        for (var id = 0; id < count; id++)
        {
            await transport.PublishAsync("", args[1], new Envelope { Body = Encoding.UTF8.GetBytes(id.ToString(CultureInfo.InvariantCulture)) });
        }

        Console.WriteLine("published");
        return 0;
    }

    /// <summary>
    /// <c>sqlite-consume &lt;db&gt; &lt;queue&gt; &lt;outfile&gt; &lt;visibility-ms&gt; &lt;prefetch&gt; &lt;work-ms&gt;</c>: for each message, appends
    /// "body" or "body redelivered" as one line to outfile, then acks. Stops cleanly when its standard input closes.
    /// </summary>
    public static async Task<int> ConsumeAsync(string[] args)
    {
        if (args.Length != 6
            || !int.TryParse(args[3], CultureInfo.InvariantCulture, out var visibilityMs)
            || !int.TryParse(args[4], CultureInfo.InvariantCulture, out var prefetch)
            || !int.TryParse(args[5], CultureInfo.InvariantCulture, out var workMs))
        {
            Console.Error.WriteLine("usage: sqlite-consume <db> <queue> <outfile> <visibility-ms> <prefetch> <work-ms>");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is not null)
            {
            }

            await stop.CancelAsync();
        });

        await using var transport = Open(args[0], TimeSpan.FromMilliseconds(visibilityMs));
        await transport.DeclareQueueAsync(new QueueDeclaration(args[1]));
        await using var output = new StreamWriter(new FileStream(args[2], FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        await using var consumer = await transport.ConsumeAsync(args[1], new ConsumeOptions(Prefetch: prefetch));
        Console.WriteLine("consuming");
        try
        {
            await foreach (var delivery in consumer.Deliveries.ReadAllAsync(stop.Token))
            {
                // Stands for the task's work, so that a kill lands while messages are held.
                if (workMs > 0)
                {
                    await Task.Delay(workMs, stop.Token);
                }
                var id = Encoding.UTF8.GetString(delivery.Message.Body.Span);
                await output.WriteAsync(delivery.Redelivered ? $"{id} redelivered\n" : $"{id}\n");
                await consumer.AckAsync(delivery);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return 0;
    }

    private static ITransport Open(string path, TimeSpan visibilityTimeout) => TransportRegistry.CreateDefault().Open(new BrokerSettings
    {
        Url = $"sqlite:///{path}",
        PollingInterval = TimeSpan.FromMilliseconds(50),
        VisibilityTimeout = visibilityTimeout,
    });
}
