using System.Diagnostics;

namespace ClusterQueue.Tests.Interop.Control;

/// <summary>What one run of Debian's <c>celery</c> command printed and returned.</summary>
public sealed record CeleryRun(int ExitCode, string Output, string Error);

/// <summary>Runs <c>python3 -m celery -A tasks ...</c> in the Python module folder against a broker URL.</summary>
public static class CeleryCommand
{
    /// <summary>Runs the command to its end; one that outlives <see cref="PythonCelery.Patience"/> is killed and fails the test.</summary>
    public static async Task<CeleryRun> RunAsync(string brokerUrl, params string[] arguments)
    {
        using var process = Process.Start(PythonCelery.StartInfo(brokerUrl, ["-m", "celery", "-A", "tasks", .. arguments]))
            ?? throw new InvalidOperationException($"cannot start {PythonCelery.Interpreter}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(PythonCelery.Patience);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"celery {string.Join(' ', arguments)} did not finish within {PythonCelery.Patience}: {await output}{await errors}");
        }

        return new CeleryRun(process.ExitCode, await output, await errors);
    }
}

/// <summary>
/// <c>celery events --dump</c> under <c>timeout</c>, read line by line while it runs, so a test can wait for the lines it
/// expects and then stop it. Disposing kills it, so a failing test never leaves it behind.
/// </summary>
public sealed class CeleryEventDump : IAsyncDisposable
{
    private readonly Process process;
    private readonly object gate = new();
    private readonly List<string> lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> waiters = [];

    private CeleryEventDump(Process process) => this.process = process;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (gate)
            {
                return [.. lines];
            }
        }
    }

    /// <summary>Starts the dump; <c>timeout</c> ends it after <paramref name="limit"/> whatever happens to the test.</summary>
    public static CeleryEventDump Start(string brokerUrl, TimeSpan limit)
    {
        var start = PythonCelery.StartInfo(brokerUrl);
        start.FileName = "timeout";
        start.ArgumentList.Insert(0, ((int)limit.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Insert(1, PythonCelery.Interpreter);
        foreach (var argument in new[] { "-m", "celery", "-A", "tasks", "events", "--dump" })
        {
            start.ArgumentList.Add(argument);
        }

        var dump = new CeleryEventDump(new Process { StartInfo = start });
        dump.process.OutputDataReceived += (_, e) => dump.OnLine(e.Data);
        dump.process.ErrorDataReceived += (_, e) => dump.OnLine(e.Data);
        dump.process.Start();
        dump.process.BeginOutputReadLine();
        dump.process.BeginErrorReadLine();
        return dump;
    }

    /// <summary>The first line, printed so far or later, that matches; fails with everything printed after the patience.</summary>
    public async Task<string> LineAsync(Func<string, bool> match, string what)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            waiters.Add((match, seen));
        }

        try
        {
            return await seen.Task.WaitAsync(PythonCelery.Patience);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"celery events --dump printed no {what} within {PythonCelery.Patience}:\n{string.Join('\n', Lines)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(PythonCelery.Patience);
        }
        finally
        {
            process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            lines.Add(line);
            foreach (var waiter in waiters.Where(w => w.Match(line)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Seen.TrySetResult(line);
            }
        }
    }
}
