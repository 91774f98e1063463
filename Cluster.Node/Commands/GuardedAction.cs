using System.CommandLine;
using ClusterQueue.Config;
using ClusterQueue.Transport;

namespace ClusterQueue.Node.Commands;

/// <summary>Runs a command's action so that every expected failure becomes one line on stderr and an exit code, never a stack trace.</summary>
public static class GuardedAction
{
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (CommandException e)
            {
                await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
            catch (ConfigException e)
            {
                await error.WriteLineAsync($"config error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.ConfigError;
            }
            catch (TransportException e)
            {
                await error.WriteLineAsync($"broker unavailable: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync("cancelled").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug or an unforeseen environment problem: still one readable line, with the type to search for.
                await error.WriteLineAsync($"error: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        });
    }
}
