using System.CommandLine;
using ClusterQueue.Node.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node worker</c>: runs a worker node under the Generic Host, like <c>celery worker</c>.</summary>
public static class WorkerCommand
{
    public static Command Build()
    {
        var flags = new WorkerOptions();
        var connection = new ConnectionOptions();
        var command = new Command("worker", "Start a worker node that consumes the queues and runs tasks; SIGTERM or Ctrl-C is a warm shutdown, a second one is cold.");
        flags.AddTo(command);
        connection.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var appPath = parseResult.GetValue(flags.App);
            var tasks = TaskAssemblies.Load(appPath);
            var settings = connection.Load(parseResult, flags.Overrides(parseResult));
            var level = LogLevels.Parse(parseResult.GetValue(flags.LogLevel)!);

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
            if (parseResult.GetValue(flags.Purge))
            {
                var counts = await QueuePurger.PurgeAsync(clusterApp, settings.Worker.Queues, cancellationToken).ConfigureAwait(false);
                await QueuePurger.WriteAsync(counts, output).ConfigureAwait(false);
            }

            builder.Services.AddSingleton(clusterApp);
            var workerSettings = settings.Worker with { Fabric = Fabric.NodeFabricConfiguration.Bind(settings.Configuration, settings.Broker.Url) };
            builder.Services.AddClusterQueueWorker(worker => worker.WithSettings(workerSettings));

            builder.Services.AddHostedService(sp => new WorkerConsoleReporter(
                sp.GetRequiredService<WorkerHostedService>(),
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<ILoggerFactory>(),
                output));
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
            catch (ClusterQueue.Fabric.Membership.NodeNameInUseException e)
            {
                throw new CommandException(ExitCodes.Failure, e.Message);
            }

            return signals.WentCold ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }
}
