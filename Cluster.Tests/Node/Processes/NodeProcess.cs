using System.Diagnostics;
using System.Text;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>
/// The real <c>Cluster.Node</c> program, run as a child process from the test's output folder. Every line of its
/// stdout and stderr is kept, and a test awaits a line instead of sleeping.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<IReadOnlyList<string>, bool> Condition, TaskCompletionSource Met)> _waiters = [];
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    private NodeProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Starts <c>dotnet Cluster.Node.dll</c> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    public static NodeProcess Start(string workingDirectory, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Cluster.Node.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var node = new NodeProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        node._process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return node;
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>Completes once the output so far satisfies <paramref name="condition"/>; the timeout names <paramref name="what"/> and shows the output.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<string>, bool> condition, string what, TimeSpan timeout)
    {
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_lines))
            {
                return;
            }

            _waiters.Add((condition, met));
        }

        try
        {
            await met.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}; the process printed:\n{Output}");
        }
    }

    public Task WaitForLineAsync(Func<string, bool> match, string what, TimeSpan timeout) =>
        WaitForAsync(lines => lines.Any(match), what, timeout);

    /// <summary>Sends a POSIX signal with <c>/bin/kill</c>, e.g. <c>TERM</c>.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("/bin/kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGKILL: the process gets no chance to ack, release or clean up.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: false);

    /// <summary>Waits for the exit and for the last line of output; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cancel.Token);
            await _outputClosed.Task.WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the process did not exit within {timeout.TotalSeconds} s; it printed:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0)
            {
                _outputClosed.TrySetResult();
            }

            return;
        }

        List<TaskCompletionSource> met = [];
        lock (_gate)
        {
            _lines.Add(line);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(_lines))
                {
                    met.Add(_waiters[i].Met);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var waiter in met)
        {
            waiter.TrySetResult();
        }
    }
}
