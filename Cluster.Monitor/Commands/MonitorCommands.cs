using System.CommandLine;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Http;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Node;
using ClusterQueue.Node.Commands;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Monitor.Commands;

/// <summary>The monitor's commands: <c>run</c> (state, HTTP API, dashboard) and <c>events --dump</c>.</summary>
public static class MonitorCommands
{
    public static Command Run()
    {
        var command = new Command("run", "Join the cluster as a monitor, fold its events into state, and serve the HTTP API, event stream and dashboard.");
        var connection = new ConnectionOptions(withResultBackend: false);
        var cluster = new ClusterOptions(withPort: true);
        var listen = new Option<string?>("--listen") { Description = "ADDRESS:PORT of the HTTP API (cluster-queue.monitor.listen; default 127.0.0.1:5555)." };
        var token = new Option<string?>("--token") { Description = "Bearer token the API requires (cluster-queue.monitor.token); without one it listens on loopback only." };
        var celery = CeleryEventsOption();
        connection.AddTo(command);
        cluster.AddTo(command);
        command.Options.Add(listen);
        command.Options.Add(token);
        command.Options.Add(celery);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var extra = cluster.Overrides(parseResult);
            if (parseResult.GetValue(listen) is { } address) extra["cluster-queue.monitor.listen"] = address;
            if (parseResult.GetValue(token) is { } secret) extra["cluster-queue.monitor.token"] = secret;
            if (parseResult.GetValue(celery)) extra["cluster-queue.monitor.celery-events"] = "true";
            using var logging = Logging();
            await using var session = await MonitorSession.StartAsync(connection.Load(parseResult, extra), logging, cancellationToken).ConfigureAwait(false);
            var api = await MonitorApi.StartAsync(session.Node, session.Settings, logging, cancellationToken).ConfigureAwait(false);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"monitor: {string.Join(", ", api.Urls)} (Ctrl-C to stop)").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await api.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await api.DisposeAsync().ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Top()
    {
        var command = new Command("top", "Live console of workers and tasks, with keys for revoke, terminate, rate limit, pool size and shutdown.");
        var connection = new ConnectionOptions(withResultBackend: false);
        var cluster = new ClusterOptions(withPort: true);
        var celery = CeleryEventsOption();
        connection.AddTo(command);
        cluster.AddTo(command);
        command.Options.Add(celery);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            if (System.Console.IsInputRedirected)
            {
                throw CommandException.Usage("top needs a terminal; use `events --dump` or the HTTP API from scripts");
            }

            var extra = cluster.Overrides(parseResult);
            if (parseResult.GetValue(celery)) extra["cluster-queue.monitor.celery-events"] = "true";
            // In memory: the console shows the cluster from now on and leaves the saved state to `run`.
            extra["cluster-queue.monitor.state-db"] = "";
            using var logging = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddFilter("Akka", LogLevel.Error));
            await using var session = await MonitorSession.StartAsync(connection.Load(parseResult, extra), logging, cancellationToken).ConfigureAwait(false);
            await new Top.TopConsole(session.Node, Spectre.Console.AnsiConsole.Console)
                .RunAsync(() => System.Console.KeyAvailable ? System.Console.ReadKey(intercept: true) : null, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Events()
    {
        var command = new Command("events", "Print the cluster's events as they happen, one line each in the format of `celery events --dump`.");
        var dump = new Option<bool>("--dump") { Description = "Dump mode: one line per event (the only mode for now)." };
        var connection = new ConnectionOptions(withResultBackend: false);
        var cluster = new ClusterOptions(withPort: true);
        var celery = CeleryEventsOption();
        command.Options.Add(dump);
        connection.AddTo(command);
        cluster.AddTo(command);
        command.Options.Add(celery);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            if (!parseResult.GetValue(dump))
            {
                throw CommandException.Usage("give --dump; the live view is `top`");
            }

            var extra = cluster.Overrides(parseResult);
            if (parseResult.GetValue(celery)) extra["cluster-queue.monitor.celery-events"] = "true";
            using var logging = Logging();
            await using var session = await MonitorSession.StartAsync(connection.Load(parseResult, extra), logging, cancellationToken).ConfigureAwait(false);
            using var subscription = session.Node.Hub.Subscribe(Stream.EventFilter.All);
            var output = parseResult.InvocationConfiguration.Output;
            await output.WriteLineAsync("-> events: Ready to capture events...").ConfigureAwait(false);
            var formatter = new EventDump();
            try
            {
                await foreach (var evt in subscription.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    await output.WriteLineAsync(formatter.Format(evt.Event)).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<bool> CeleryEventsOption() => new("--celery-events")
    {
        Description = "Also read Celery's celeryev exchange on the broker, so Python Celery workers show up (brokers with broadcast: AMQP, SQLite).",
    };

    /// <summary>Logs go to stderr, so <c>events --dump</c> output stays clean.</summary>
    private static ILoggerFactory Logging() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Akka", LogLevel.Warning));

    /// <summary>A monitor node and, with <c>celery-events</c>, a receiver on the broker's <c>celeryev</c> exchange feeding it.</summary>
    private sealed class MonitorSession : IAsyncDisposable
    {
        private ClusterQueue.Client.ClusterQueueApp? app;

        private MonitorSession(MonitorNode node, MonitorSettings settings)
        {
            Node = node;
            Settings = settings;
        }

        public MonitorNode Node { get; }

        public MonitorSettings Settings { get; }

        public static async Task<MonitorSession> StartAsync(NodeSettings loaded, ILoggerFactory logging, CancellationToken cancellationToken)
        {
            var configuration = loaded.Configuration;
            MonitorSettings settings;
            ClusterSettings cluster;
            try
            {
                settings = configuration.GetSettings<MonitorSettings>("monitor");
                settings.Validate();
                cluster = configuration.GetSettings<ClusterSettings>("cluster");
                cluster.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ConfigException(e.Message, key: e.ParamName);
            }

            MonitorNode node;
            try
            {
                node = await MonitorNode.StartAsync(
                    settings, cluster, AkkaConfiguration.From(configuration), configuration.GetSettings<ControlSettings>("control"), logging, cancellationToken).ConfigureAwait(false);
            }
            catch (ClusterJoinException e)
            {
                throw new CommandException(ExitCodes.Unavailable, e.Message);
            }

            var session = new MonitorSession(node, settings);
            if (settings.CeleryEvents)
            {
                await session.ReadCeleryEventsAsync(loaded, logging, cancellationToken).ConfigureAwait(false);
            }

            return session;
        }

        public async ValueTask DisposeAsync()
        {
            await Node.DisposeAsync().ConfigureAwait(false);
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async Task ReadCeleryEventsAsync(NodeSettings loaded, ILoggerFactory logging, CancellationToken cancellationToken)
        {
            app = loaded.OpenApp(new ClusterQueue.Client.TaskRegistry(), logging, withResults: false);
            if (!app.Transport.Broadcasts)
            {
                throw new ConfigException(
                    $"--celery-events reads the celeryev exchange, and broker {loaded.DisplayBroker} has no broadcast (Celery sends no events there)",
                    key: "cluster-queue.monitor.celery-events");
            }

            await Node.ReadCeleryEventsAsync(app.Transport, logging.CreateLogger("ClusterQueue.Monitor.CeleryEvents"), cancellationToken).ConfigureAwait(false);
        }
    }
}
