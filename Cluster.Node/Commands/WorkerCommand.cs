using System.CommandLine;
using ClusterQueue.Node.Hosting;
using ClusterQueue.Node.Steps;
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
        var cluster = new ClusterOptions(withPort: true);
        var command = new Command("worker", "Start a worker node that consumes the queues and runs tasks; SIGTERM or Ctrl-C is a warm shutdown, a second one is cold.");
        flags.AddTo(command);
        connection.AddTo(command);
        cluster.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var appPath = parseResult.GetValue(flags.App);
            var taskApp = TaskAssemblies.LoadApp(appPath);
            var tasks = taskApp.Tasks;
            var overrides = flags.Overrides(parseResult);
            foreach (var (key, value) in cluster.Overrides(parseResult))
            {
                overrides[key] = value;
            }

            var settings = connection.Load(parseResult, overrides);
            var level = LogLevels.Parse(parseResult.GetValue(flags.LogLevel)!);

            await using var clusterApp = settings.OpenApp(tasks);
            if (parseResult.GetValue(flags.Purge))
            {
                var counts = await QueuePurger.PurgeAsync(clusterApp, settings.Worker.Queues, cancellationToken).ConfigureAwait(false);
                await QueuePurger.WriteAsync(counts, output).ConfigureAwait(false);
            }

            var workerSettings = settings.Worker with
            {
                Fabric = Fabric.NodeFabricConfiguration.Bind(settings.Configuration, settings.Broker.Url),
                App = appPath is null ? null : Path.GetFullPath(appPath),
            };
            WorkerSteps steps;
            try
            {
                steps = WorkerSteps.Order(taskApp.Steps, settings.Configuration);
            }
            catch (WorkerStepConfigException e)
            {
                throw new CommandException(ExitCodes.ConfigError, $"--app: {e.Message}");
            }

            var nodeName = settings.Worker.ResolveName(System.Net.Dns.GetHostName());
            await output.WriteLineAsync(WorkerBanner.Render(nodeName, settings, tasks, appPath ?? "DemoTasks (no --app given)", workerSettings, steps)).ConfigureAwait(false);
            await using var beat = parseResult.GetValue(flags.Beat)
                ? await StartBeatAsync(settings, clusterApp, level, output, cancellationToken).ConfigureAwait(false)
                : null;

            // A node the cluster downed (the losing side of a partition) starts again in a new actor system and joins
            // again once it reaches the seeds; any other end of the host ends the command.
            var rejoining = false;
            while (true)
            {
                int code;
                bool downed;
                try
                {
                    (code, downed) = await RunHostAsync(settings, workerSettings, steps, clusterApp, level, output, rejoining, cancellationToken).ConfigureAwait(false);
                }
                catch (ClusterQueue.Fabric.ClusterPlane.ClusterJoinException e) when (rejoining && !cancellationToken.IsCancellationRequested)
                {
                    // The partition may last: a node that was a member keeps trying, where a first start gives up.
                    await output.WriteLineAsync($"{nodeName}: {e.Message}; trying again").ConfigureAwait(false);
                    continue;
                }

                if (!downed || cancellationToken.IsCancellationRequested)
                {
                    return code;
                }

                rejoining = true;
                await output.WriteLineAsync($"{nodeName}: downed by the cluster; starting again and rejoining").ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>-B</c>: a beat member beside the worker, as Celery's embedded beat. It is a member of its own (role
    /// <c>beat</c>, any free port) that joins the same seeds, so it can hold the scheduler singleton whether or not the
    /// worker's member is up; without seeds it is a cluster of one, as the worker is.
    /// </summary>
    private static async Task<Beat.BeatNode> StartBeatAsync(NodeSettings settings, Client.ClusterQueueApp clusterApp, LogLevel level, TextWriter output, CancellationToken cancellationToken)
    {
        var beat = Beat.BeatSettings.From(settings.Configuration);
        var cluster = ClusterQueue.Config.SettingsBinder.GetSettings<ClusterQueue.Fabric.ClusterPlane.ClusterSettings>(settings.Configuration, "cluster") with { Port = 0 };
        var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "[yyyy-MM-dd HH:mm:ss] ";
        }).SetMinimumLevel(level));
        try
        {
            var node = await Beat.BeatNode.StartAsync(beat, cluster, settings.Worker.AkkaConfig, Beat.BeatNode.SendWith(clusterApp), logging, cancellationToken: cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"beat: {beat.Entries.Count} entries; member {Akka.Cluster.Cluster.Get(node.System).SelfAddress} is up").ConfigureAwait(false);
            return node;
        }
        catch (ClusterQueue.Fabric.ClusterPlane.ClusterJoinException e)
        {
            throw new CommandException(ExitCodes.Unavailable, $"-B: {e.Message}");
        }
    }

    private static async Task<(int Code, bool Downed)> RunHostAsync(NodeSettings settings, Worker.WorkerSettings workerSettings, WorkerSteps steps, Client.ClusterQueueApp clusterApp, LogLevel level, TextWriter output, bool rejoining, CancellationToken cancellationToken)
    {
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

        builder.Services.AddSingleton(clusterApp);
        builder.Services.AddClusterQueueWorker(worker =>
        {
            worker.WithSettings(workerSettings).WithStepConfiguration(settings.Configuration);
            foreach (var step in steps.InStartOrder)
            {
                worker.AddStep(step);
            }
        });

        builder.Services.AddHostedService(sp => new WorkerConsoleReporter(
            sp.GetRequiredService<WorkerHostedService>(),
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<ILoggerFactory>(),
            output));
        builder.Services.AddSingleton<SignalLifetime>();
        builder.Services.AddSingleton<IHostLifetime>(sp => sp.GetRequiredService<SignalLifetime>());

        using var host = builder.Build();
        var signals = host.Services.GetRequiredService<SignalLifetime>();

        // Taken before the run: RunAsync disposes the host and its services.
        var hosted = host.Services.GetRequiredService<WorkerHostedService>();
        try
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterQueue.Fabric.Membership.NodeNameInUseException e)
        {
            throw new CommandException(ExitCodes.Failure, e.Message);
        }
        catch (WorkerStepStartException e)
        {
            // The node has stopped, and the steps started before this one with it.
            throw new CommandException(ExitCodes.Failure, e.Message);
        }
        catch (ClusterQueue.Fabric.ClusterPlane.ClusterJoinException e) when (!rejoining)
        {
            throw new CommandException(ExitCodes.Unavailable, e.Message);
        }

        var downed = hosted.Node.DownedByCluster;
        return (signals.WentCold ? ExitCodes.Failure : ExitCodes.Ok, downed);
    }
}
