using System.Diagnostics;

namespace ClusterQueue.Tests.Interop;

/// <summary>
/// A real Celery worker (prefork, two processes) on the Python task module, started in the module folder. Disposing
/// it kills the whole process tree, so a failing test never leaves it behind.
/// </summary>
public sealed class PythonCeleryWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly List<string> _lines = [];

    private PythonCeleryWorker(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Starts the worker on <paramref name="brokerUrl"/> and returns once it logs that it is ready.</summary>
    /// <param name="sendTaskEvents">Start with <c>-E</c>, so the worker sends task events too.</param>
    /// <param name="environment">Extra environment variables for tasks.py, such as <c>CQ_INTEROP_ACCEPT</c>.</param>
    public static async Task<PythonCeleryWorker> StartAsync(
        string brokerUrl, string nodeName = "py@%h", bool sendTaskEvents = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        string[] arguments = ["-m", "celery", "-A", "tasks", "worker", "-c", "2", "--pool", "prefork", "-n", nodeName, "-l", "info"];
        var start = PythonCelery.StartInfo(brokerUrl, environment, sendTaskEvents ? [.. arguments, "-E"] : arguments);
        var worker = new PythonCeleryWorker(new Process { StartInfo = start, EnableRaisingEvents = true });
        worker._process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data);
        worker._process.Exited += (_, _) => worker._ready.TrySetException(
            new InvalidOperationException($"the Celery worker exited before it was ready:\n{worker.Output}"));
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        try
        {
            await worker._ready.Task.WaitAsync(PythonCelery.Patience);
        }
        catch (TimeoutException)
        {
            await worker.DisposeAsync();
            throw new TimeoutException($"the Celery worker was not ready within {PythonCelery.Patience}:\n{worker.Output}");
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }

        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(PythonCelery.Patience);
        }
        catch (InvalidOperationException)
        {
            // It never started.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
        }

        // Celery logs "py@host ready." once its consumers are up.
        if (line.EndsWith(" ready.", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}
