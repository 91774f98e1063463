using System.Diagnostics;

namespace ClusterQueue.Bench.Interop;

/// <summary>Debian's Python with Celery and the interop task module (Cluster.Tests/Interop/python), for the benchmarks.</summary>
public sealed class PythonCeleryProcess(string interpreter, string moduleDirectory)
{
    /// <summary>CQ_BENCH_PYTHON, CQ_TEST_PYTHON or /usr/bin/python3, if it can import celery; null otherwise.</summary>
    public static PythonCeleryProcess? Find()
    {
        var interpreter = Environment.GetEnvironmentVariable("CQ_BENCH_PYTHON") is { Length: > 0 } bench ? bench
            : Environment.GetEnvironmentVariable("CQ_TEST_PYTHON") is { Length: > 0 } test ? test
            : "/usr/bin/python3";
        var module = FindModuleDirectory();
        if (module is null || !File.Exists(interpreter))
        {
            return null;
        }

        using var check = Process.Start(new ProcessStartInfo(interpreter, "-c \"import celery\"") { RedirectStandardError = true });
        check?.WaitForExit();
        return check is { ExitCode: 0 } ? new PythonCeleryProcess(interpreter, module) : null;
    }

    /// <summary>Starts <c>celery -A tasks worker -c 2 --pool prefork</c> and returns once it logs that it is ready.</summary>
    /// <param name="environment">Extra variables for tasks.py, such as <c>CQ_INTEROP_RESULT_BACKEND</c>.</param>
    public async Task<RunningWorker> StartWorkerAsync(string brokerUrl, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            WorkingDirectory = moduleDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-m", "celery", "-A", "tasks", "worker", "-c", "2", "--pool", "prefork", "-n", "pybench@%h", "-l", "warning" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CELERY_BROKER_URL"] = brokerUrl;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {interpreter}");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // At warning level Celery prints nothing when ready, so wait for its consumer on the task queue instead.
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var worker = new RunningWorker(process);
        await worker.WaitForConsumerAsync(brokerUrl);
        return worker;
    }

    private static string? FindModuleDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Cluster.Tests", "Interop", "python");
            if (File.Exists(Path.Combine(candidate, "tasks.py")))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A running Python worker; disposing it kills its whole process tree.</summary>
    public sealed class RunningWorker(Process process) : IAsyncDisposable
    {
        public async Task WaitForConsumerAsync(string brokerUrl)
        {
            var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(brokerUrl) }.CreateConnectionAsync();
            await using (connection)
            {
                var deadline = Stopwatch.StartNew();
                while (deadline.Elapsed < TimeSpan.FromMinutes(2))
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"the Celery worker exited with {process.ExitCode}");
                    }

                    await using var channel = await connection.CreateChannelAsync();
                    try
                    {
                        if ((await channel.QueueDeclarePassiveAsync("celery")).ConsumerCount > 0)
                        {
                            return;
                        }
                    }
                    catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
                    {
                        // The queue does not exist until the worker declares it.
                    }

                    await Task.Delay(100);
                }
            }

            throw new TimeoutException("the Celery worker did not start consuming within 2 minutes");
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
