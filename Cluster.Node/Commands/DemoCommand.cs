using System.CommandLine;
using System.Runtime.InteropServices;
using ClusterQueue.Node.Demo;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node demo</c>: two worker nodes and a mixed workload on a throw-away SQLite broker, in one process.</summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var tasks = new Option<int>("--tasks") { Description = "How many tasks to send (10 or more).", DefaultValueFactory = _ => 1000 };
        var workdir = new Option<string?>("--workdir")
        {
            Description = "Folder for the broker, results and state files, kept afterwards; default: a temporary folder deleted at the end.",
        };
        tasks.Validators.Add(result =>
        {
            if (OptionValues.Single(result) is { } text && int.TryParse(text, out var value) && value < 10)
            {
                result.AddError($"--tasks must be 10 or more, got {value}");
            }
        });
        var command = new Command(
            "demo",
            "Start two worker nodes (demo1, demo2) on a temporary SQLite broker, send a mixed workload (adds, muls, failures, retries, countdowns, a rate-limited burst), show progress and a summary; exit 1 if any task was lost.")
        {
            tasks,
            workdir,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            // A live progress bar only on a real terminal; piped output gets plain progress lines instead.
            var live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = live ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = live ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = live ? InteractionSupport.Yes : InteractionSupport.No,
            });
            using var logging = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .SetMinimumLevel(LogLevel.Error));

            // Ctrl-C or SIGTERM stops the demo cleanly, so that its temporary folder is still deleted.
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
            void Interrupt(PosixSignalContext context)
            {
                context.Cancel = true;
                interrupted.Cancel();
            }

            var keep = parseResult.GetValue(workdir);
            var directory = keep ?? Path.Combine(Path.GetTempPath(), "cluster-queue-demo-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(directory);
            try
            {
                var count = parseResult.GetValue(tasks);
                var outcome = await new DemoRunner(console, live, logging).RunAsync(count, directory, interrupted.Token).ConfigureAwait(false);
                DemoReport.Write(console, outcome, count);
                return outcome.Lost == 0 && outcome.WrongResults == 0 ? ExitCodes.Ok : ExitCodes.Failure;
            }
            catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
            {
                await error.WriteLineAsync("demo interrupted").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            finally
            {
                if (keep is null)
                {
                    // Pooled SQLite connections keep the files open; close them so the folder can go.
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    try
                    {
                        Directory.Delete(directory, recursive: true);
                    }
                    catch (IOException e)
                    {
                        await error.WriteLineAsync($"warning: could not delete {directory}: {e.Message}").ConfigureAwait(false);
                    }
                }
            }
        });
        return command;
    }
}
