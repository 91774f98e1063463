using System.CommandLine;
using System.Globalization;
using ClusterQueue.Config;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Node.Beat;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>
/// <c>Cluster.Node beat</c>: a cluster member that runs the periodic-task schedule, like <c>celery beat</c>; start it on
/// several nodes and one of them sends at a time. <c>--list</c> prints the schedule, <c>--once</c> sends what is due.
/// </summary>
public static class BeatCommand
{
    public static Command Build()
    {
        var list = new Option<bool>("--list") { Description = "Print each entry (task, schedule, last run, next run) and exit." };
        var once = new Option<bool>("--once") { Description = "Send the runs that are due now, record them, print the schedule and exit; not while a beat runs on the same state." };
        var logLevel = LogLevels.CreateOption();
        var connection = new ConnectionOptions(withResultBackend: false);
        var cluster = new ClusterOptions(withPort: true);
        var command = new Command("beat", "Start a beat node: a cluster member that sends the periodic tasks of cluster-queue.beat.schedule; of several, one sends at a time.")
        {
            list, once, logLevel,
        };
        connection.AddTo(command);
        cluster.AddTo(command);
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var settings = connection.Load(parseResult, cluster.Overrides(parseResult));
            var beat = BeatSettings.From(settings.Configuration);
            var level = LogLevels.Parse(parseResult.GetValue(logLevel)!);
            using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "[yyyy-MM-dd HH:mm:ss] ";
            }).SetMinimumLevel(level));

            if (parseResult.GetValue(list))
            {
                await PrintAsync(beat, await BeatStateReader.ReadAsync(beat, cancellationToken).ConfigureAwait(false), output).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            await using var app = settings.OpenApp(new ClusterQueue.Client.TaskRegistry(), logging, withResults: false);
            if (parseResult.GetValue(once))
            {
                var sent = await BeatStateReader.RunOnceAsync(beat, BeatNode.SendWith(app), logging.CreateLogger("ClusterQueue.Beat"), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"sent {sent} due run{(sent == 1 ? "" : "s")}").ConfigureAwait(false);
                await PrintAsync(beat, await BeatStateReader.ReadAsync(beat, cancellationToken).ConfigureAwait(false), output).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var clusterSettings = settings.Configuration.GetSettings<ClusterSettings>("cluster");
            await output.WriteLineAsync($"beat: {beat.Entries.Count} entries, state in {StateDisplay(beat)}; joining the cluster").ConfigureAwait(false);
            BeatNode node;
            try
            {
                node = await BeatNode.StartAsync(beat, clusterSettings, settings.Worker.AkkaConfig, BeatNode.SendWith(app), logging, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (ClusterJoinException e)
            {
                throw new CommandException(ExitCodes.Unavailable, e.Message);
            }

            await using (node.ConfigureAwait(false))
            {
                await output.WriteLineAsync($"beat: member {Akka.Cluster.Cluster.Get(node.System).SelfAddress} is up; Ctrl-C to stop").ConfigureAwait(false);
                // The process handles SIGINT and SIGTERM itself (Program), so a signal ends the wait and the member
                // leaves the cluster: the scheduler moves to the next beat member at once rather than after downing.
                var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
                {
                    context.Cancel = true;
                    stop.TrySetResult();
                }

                using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
                using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
                using var cancelled = cancellationToken.Register(() => stop.TrySetResult());
                await Task.WhenAny(node.System.WhenTerminated, stop.Task).ConfigureAwait(false);
                await output.WriteLineAsync("beat: leaving the cluster").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One line per entry: name, task, schedule, last run and next run, in UTC.</summary>
    internal static async Task PrintAsync(BeatSettings beat, BeatState state, TextWriter output)
    {
        var now = DateTimeOffset.UtcNow;
        if (beat.Entries.Count == 0)
        {
            await output.WriteLineAsync("no entries in cluster-queue.beat.schedule").ConfigureAwait(false);
            return;
        }

        static string Time(DateTimeOffset? time) => time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";
        foreach (var entry in beat.Entries)
        {
            var last = state.Slots.TryGetValue(entry.Name, out var slot) ? slot.LastRun : null;
            var next = state.NextRun(entry, now);
            await output.WriteLineAsync($"{entry.Name}: {entry.Task} {entry.Schedule.Describe()}; last run {Time(last)}; next run {Time(next)}").ConfigureAwait(false);
        }
    }

    private static string StateDisplay(BeatSettings beat) =>
        beat.StatePostgres.Length > 0 ? "PostgreSQL" : Path.GetFullPath(beat.StateDb);
}
