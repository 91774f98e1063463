using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Pool;

/// <summary>
/// The parent's handle on one prefork child: the process, and the Unix socket it connected back on. One task at a
/// time: <see cref="RunAsync"/> sends it and completes with the child's answer, or fails with
/// <see cref="WorkerLostException"/> when the child dies first.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly ILogger _log;
    private readonly TaskCompletionSource<IReadOnlySet<string>> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private Stream? _stream;
    private TaskCompletionSource<JsonObject>? _pending;
    private long _jobs;
    private volatile bool _accepted;

    private ChildProcess(Process process, ILogger log)
    {
        _process = process;
        _log = log;
        Pid = process.Id;
    }

    public int Pid { get; }

    /// <summary>Completes with the task names the child registered once it is ready for work; faults if it never is.</summary>
    public Task<IReadOnlySet<string>> Ready => _ready.Task;

    /// <summary>Completes when the child has exited, for whatever reason.</summary>
    public Task Exited => _exited.Task;

    /// <summary>False once the process has exited, even before the socket's end has been read.</summary>
    public bool IsAlive => !_exited.Task.IsCompleted && SafeExitCode() is null;

    /// <summary>The child's resident memory after its last task, in KiB.</summary>
    public long ResidentKiB { get; private set; }

    /// <summary>Starts a child that loads <paramref name="appPath"/> (the demo tasks when null); returns before it is ready.</summary>
    public static ChildProcess Start(string? appPath, ILogger log)
    {
        // A short path: a Unix socket's path may not exceed 107 bytes.
        var socketPath = Path.Combine(Path.GetTempPath(), $"cq-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);

        var start = ChildCommand();
        start.ArgumentList.Add(PoolChild.Command);
        start.ArgumentList.Add("--socket");
        start.ArgumentList.Add(socketPath);
        if (appPath is not null)
        {
            start.ArgumentList.Add("--app");
            start.ArgumentList.Add(Path.GetFullPath(appPath));
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        }
        catch
        {
            listener.Dispose();
            File.Delete(socketPath);
            throw;
        }

        var child = new ChildProcess(process, log);
        _ = child.ConnectAsync(listener, socketPath);
        return child;
    }

    /// <summary>
    /// The command that runs this assembly's entry point again: through the <c>dotnet</c> host when this process runs
    /// under it (tests, <c>dotnet Cluster.Node.dll</c>), else through the app host beside the assembly.
    /// </summary>
    private static ProcessStartInfo ChildCommand()
    {
        var assembly = typeof(ChildProcess).Assembly.Location;
        var host = Environment.ProcessPath;
        ProcessStartInfo start;
        if (host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start = new ProcessStartInfo(host);
            start.ArgumentList.Add(assembly);
        }
        else if (Path.ChangeExtension(assembly, null) is var appHost && File.Exists(appHost))
        {
            start = new ProcessStartInfo(appHost);
        }
        else
        {
            start = new ProcessStartInfo("dotnet");
            start.ArgumentList.Add(assembly);
        }

        // The child writes to the worker's own stdout and stderr: a task's Console output shows in the worker's log.
        start.UseShellExecute = false;
        return start;
    }

    private async Task ConnectAsync(Socket listener, string socketPath)
    {
        Socket? connection = null;
        try
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            var accepting = listener.AcceptAsync(timeout.Token).AsTask();
            var exited = _process.WaitForExitAsync(timeout.Token);
            if (await Task.WhenAny(accepting, exited).ConfigureAwait(false) == exited)
            {
                throw new InvalidOperationException($"the child process exited with code {SafeExitCode()} before it connected");
            }

            connection = await accepting.ConfigureAwait(false);
            _stream = new NetworkStream(connection, ownsSocket: true);
            var hello = await PoolFrames.ReadAsync(_stream).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the child process exited with code {SafeExitCode()} before it was ready");
            var tasks = (hello["tasks"] as JsonArray ?? []).Select(t => (string?)t).OfType<string>().ToHashSet(StringComparer.Ordinal);
            _ready.TrySetResult(tasks);
        }
        catch (Exception e)
        {
            _ready.TrySetException(new InvalidOperationException($"prefork child {Pid} did not start: {e.Message}", e));
            Kill();
            connection?.Dispose();
            _exited.TrySetResult();
            return;
        }
        finally
        {
            listener.Dispose();
            File.Delete(socketPath);
        }

        await ReadAsync(_stream).ConfigureAwait(false);
    }

    private async Task ReadAsync(Stream stream)
    {
        try
        {
            while (await PoolFrames.ReadAsync(stream).ConfigureAwait(false) is { } frame)
            {
                var op = (string?)frame["op"];
                if (op == "accepted")
                {
                    _accepted = true;
                }
                else if (op == "done")
                {
                    ResidentKiB = (long?)frame["rss_kib"] ?? 0;
                    Interlocked.Exchange(ref _pending, null)?.TrySetResult(frame);
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException or System.Text.Json.JsonException)
        {
            _log.LogDebug(e, "Prefork child {Pid}: the socket failed", Pid);
        }

        // The socket closed: the child is gone or going. Its exit status says how, for WorkerLostError.
        using var grace = new CancellationTokenSource(ExitGrace);
        try
        {
            await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // It closed its socket but lives on: it is of no more use.
            Kill();
        }

        _exited.TrySetResult();
        Interlocked.Exchange(ref _pending, null)?.TrySetException(WorkerLostException.Exited(SafeExitCode(), Interlocked.Read(ref _jobs), _accepted));
    }

    /// <summary>Runs one task frame; cancelling <paramref name="cancel"/> asks the child to cancel the task's token.</summary>
    /// <exception cref="WorkerLostException">The child died before it answered; <see cref="WorkerLostException.Accepted"/> says whether it had taken the task.</exception>
    public async Task<JsonObject> RunAsync(JsonObject run, CancellationToken cancel)
    {
        await Ready.ConfigureAwait(false);
        // Continuations run on the reader: it has nothing else to read until the next task is sent, and the hop to
        // the thread pool that it saves was a third of a noop task's time in the child.
        var pending = new TaskCompletionSource<JsonObject>();
        if (Interlocked.CompareExchange(ref _pending, pending, null) is not null)
        {
            throw new InvalidOperationException($"prefork child {Pid} is already running a task");
        }

        var job = Interlocked.Increment(ref _jobs);
        _accepted = false;
        if (!IsAlive)
        {
            Interlocked.Exchange(ref _pending, null);
            throw WorkerLostException.Exited(SafeExitCode(), job, accepted: false);
        }

        try
        {
            await SendAsync(run).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The reader sees the same broken socket and fails the pending task with the child's exit status.
            _log.LogDebug(e, "Prefork child {Pid}: sending a task failed", Pid);
        }

        await using var cancelling = cancel.Register(() => _ = SendCancelAsync());
        return await pending.Task.ConfigureAwait(false);
    }

    private async Task SendCancelAsync()
    {
        try
        {
            await SendAsync(new JsonObject { ["op"] = "cancel" }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // A child that is gone has nothing left to cancel.
        }
    }

    private async Task SendAsync(JsonObject frame)
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            await PoolFrames.WriteAsync(_stream!, frame).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>SIGKILL: the one stop a task cannot catch or ignore.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private int? SafeExitCode()
    {
        try
        {
            return _process.HasExited ? _process.ExitCode : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>An idle child is asked to exit and given a moment; a busy or deaf one is killed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsAlive && Volatile.Read(ref _pending) is null && _ready.Task.IsCompletedSuccessfully)
        {
            try
            {
                await SendAsync(new JsonObject { ["op"] = "exit" }).ConfigureAwait(false);
                await Exited.WaitAsync(ExitGrace).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or TimeoutException)
            {
                // It did not leave in time; it is killed below.
            }
        }

        if (IsAlive || !_process.HasExited)
        {
            Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _stream?.Dispose();
        _process.Dispose();
        _writing.Dispose();
    }
}
