using System.CommandLine;
using System.Globalization;
using ClusterQueue.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node worker</c>: runs a worker node under the Generic Host, like <c>celery worker</c>.</summary>
public static class WorkerCommand
{
    public static Command Build()
    {
        var app = new Option<string?>("--app", "-A")
        {
            Description = "Path of a .NET assembly whose [CeleryTask] methods this worker runs; without it the worker runs the demo tasks (tasks.add, tasks.mul, ...).",
        };
        var queues = new Option<string?>("--queues", "-Q") { Description = "Comma-separated queues to consume, e.g. celery,video; overrides cluster-queue.node.queues." };
        var concurrency = new Option<int?>("--concurrency", "-c") { Description = "Tasks run at once; default one per CPU (cluster-queue.node.concurrency)." };
        var name = new Option<string?>("--hostname", "-n") { Description = "Node name; %h is the host name, %n the host name without its domain (default celery@%h)." };
        var events = new Option<bool>("--task-events", "-E") { Description = "Send task events for monitors (cluster-queue.node.send-task-events)." };
        var prefetch = new Option<int?>("--prefetch-multiplier") { Description = "Unacked messages reserved per pool slot (cluster-queue.node.prefetch-multiplier)." };
        var optimization = new Option<string?>("--optimization", "-O")
        {
            Description = "fair: reserve only what an idle slot can start; default: reserve up to the prefetch window.",
        };
        optimization.AcceptOnlyFromAmong("fair", "default");
        var acksLate = new Option<bool>("--acks-late") { Description = "Acknowledge a task after it ran instead of before, so a crash gives it to another worker." };
        var purge = new Option<bool>("--purge") { Description = "Remove every waiting message from the worker's queues before starting, printing how many." };
        var loglevel = LogLevels.CreateOption();
        concurrency.Validators.Add(result => RequireAtLeast(result, 0, "--concurrency"));
        prefetch.Validators.Add(result => RequireAtLeast(result, 0, "--prefetch-multiplier"));

        var connection = new ConnectionOptions();
        var command = new Command("worker", "Start a worker node that consumes the queues and runs tasks; SIGTERM or Ctrl-C is a warm shutdown, a second one is cold.")
        {
            app, queues, concurrency, name, events, prefetch, optimization, acksLate, purge, loglevel,
        };
        connection.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides["cluster-queue.node." + key] = value;
                }
            }

            Set("queues", QueuePurger.ParseQueues(parseResult.GetValue(queues), "--queues") is { } q ? string.Join(',', q) : null);
            Set("concurrency", parseResult.GetValue(concurrency)?.ToString(CultureInfo.InvariantCulture));
            Set("name", parseResult.GetValue(name));
            Set("send-task-events", parseResult.GetValue(events) ? "true" : null);
            Set("prefetch-multiplier", parseResult.GetValue(prefetch)?.ToString(CultureInfo.InvariantCulture));
            Set("optimization", parseResult.GetValue(optimization));
            Set("acks-late", parseResult.GetValue(acksLate) ? "true" : null);

            var appPath = parseResult.GetValue(app);
            var tasks = TaskAssemblies.Load(appPath);
            var settings = connection.Load(parseResult, overrides);
            var level = LogLevels.Parse(parseResult.GetValue(loglevel)!);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "Cluster.Node" });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "[yyyy-MM-dd HH:mm:ss] ";
            });
            builder.Logging.SetMinimumLevel(level);
            // The worker's own shutdown-timeout decides when a warm shutdown turns cold; the host must not cut in first.
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Worker.ShutdownTimeout + TimeSpan.FromSeconds(15));

            await using var clusterApp = settings.OpenApp(tasks);
            if (parseResult.GetValue(purge))
            {
                var counts = await QueuePurger.PurgeAsync(clusterApp, settings.Worker.Queues, cancellationToken).ConfigureAwait(false);
                await QueuePurger.WriteAsync(counts, output).ConfigureAwait(false);
            }

            builder.Services.AddSingleton(sp => new WorkerService(
                settings.Worker,
                clusterApp,
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<IHostApplicationLifetime>(),
                output));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerService>());
            builder.Services.AddSingleton<SignalLifetime>();
            builder.Services.AddSingleton<IHostLifetime>(sp => sp.GetRequiredService<SignalLifetime>());

            var nodeName = settings.Worker.ResolveName(System.Net.Dns.GetHostName());
            await output.WriteLineAsync(WorkerBanner.Render(nodeName, settings, tasks, appPath ?? "DemoTasks (no --app given)")).ConfigureAwait(false);
            using var host = builder.Build();
            var signals = host.Services.GetRequiredService<SignalLifetime>();
            try
            {
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e) when (e.ParamName?.StartsWith(ClusterQueueConfiguration.RootPath, StringComparison.Ordinal) == true)
            {
                throw new ConfigException(e.Message, key: e.ParamName);
            }

            return signals.WentCold ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }

    private static void RequireAtLeast(System.CommandLine.Parsing.OptionResult result, int minimum, string option)
    {
        if (OptionValues.Single(result) is { } text && int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value < minimum)
        {
            result.AddError($"{option} must be {minimum} or more, got {value}");
        }
    }
}
