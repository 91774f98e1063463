using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Node.Reload;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;

namespace ClusterQueue.Node.Pool;

/// <summary>
/// A prefork child: <c>Cluster.Node pool-child --socket PATH [--app PATH]</c>. It loads the task assembly, connects to
/// its parent's socket and runs one task at a time as the parent asks; it never talks to the broker or the result
/// store. It ends when the parent says so or goes away, even in the middle of a task that does not stop.
/// </summary>
internal static class PoolChild
{
    public const string Command = "pool-child";

    public static async Task<int> RunAsync(string[] args)
    {
        string? socketPath = null;
        string? appPath = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--socket": socketPath = args[i + 1]; break;
                case "--app": appPath = args[i + 1]; break;
                default: return Fail($"unknown argument '{args[i]}'");
            }
        }

        if (socketPath is null)
        {
            return Fail("--socket is required");
        }

        TaskRegistry registry;
        try
        {
            registry = appPath is null
                ? new TaskRegistry().RegisterAssembly(typeof(Samples.Tasks).Assembly)
                : TaskCodeVersion.Load(appPath, collectible: false).Registry;
        }
        catch (TaskCodeException e)
        {
            return Fail(e.Message);
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath)).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var child = new Session(stream, registry);
        return await child.RunAsync().ConfigureAwait(false);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"pool-child: {message}");
        return ExitCodes.Usage;
    }

    private sealed class Session(Stream stream, TaskRegistry registry)
    {
        private readonly SemaphoreSlim _writing = new(1, 1);
        private CancellationTokenSource? _current;
        private Task _running = Task.CompletedTask;

        public async Task<int> RunAsync()
        {
            var tasks = new JsonArray();
            foreach (var task in registry.Tasks.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                tasks.Add(task.Name);
            }

            await SendAsync(new JsonObject { ["op"] = "ready", ["pid"] = Environment.ProcessId, ["tasks"] = tasks }).ConfigureAwait(false);
            while (await PoolFrames.ReadAsync(stream).ConfigureAwait(false) is { } frame)
            {
                switch ((string?)frame["op"])
                {
                    case "run":
                        // Before the task starts: a child that dies before this reaches the parent never ran the task.
                        await SendAsync(new JsonObject { ["op"] = "accepted" }).ConfigureAwait(false);
                        var cancellation = new CancellationTokenSource();
                        _current = cancellation;
                        _running = Task.Run(() => RunTaskAsync(frame, cancellation));
                        break;
                    case "cancel":
                        try
                        {
                            _current?.Cancel();
                        }
                        catch (ObjectDisposedException)
                        {
                            // The task finished as the cancel crossed; there is nothing left to cancel.
                        }

                        break;
                    case "exit":
                        await _running.ConfigureAwait(false);
                        return ExitCodes.Ok;
                }
            }

            // The parent is gone. Returning ends the process even if a task still runs: task threads are pool threads.
            return ExitCodes.Ok;
        }

        private async Task RunTaskAsync(JsonObject frame, CancellationTokenSource cancellation)
        {
            JsonObject done;
            try
            {
                done = await InvokeAsync(frame, cancellation.Token).ConfigureAwait(false);
            }
            finally
            {
                cancellation.Dispose();
            }

            done["op"] = "done";
            if ((bool?)frame["report_memory"] == true)
            {
                done["rss_kib"] = ResidentKiB();
            }

            await SendAsync(done).ConfigureAwait(false);
        }

        /// <summary>
        /// Resident memory from /proc/self/statm: one small read, where Process.WorkingSet64 parses several /proc files
        /// and cost more than the noop task itself.
        /// </summary>
        private static long ResidentKiB()
        {
            if (File.Exists("/proc/self/statm"))
            {
                var pages = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                return pages * Environment.SystemPageSize / 1024;
            }

            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64 / 1024;
        }

        private async Task<JsonObject> InvokeAsync(JsonObject frame, CancellationToken cancellationToken)
        {
            var name = (string)frame["task"]!;
            if (!registry.TryGet(name, out var definition))
            {
                return Failure(new ClusterQueue.Results.ExceptionInfo("NotRegistered", [JsonValue.Create(name)], "celery.exceptions"), null, []);
            }

            var options = definition.Options with
            {
                MaxRetries = (int?)frame["max_retries"],
                DefaultRetryDelay = TimeSpan.FromSeconds((double?)frame["default_retry_delay"] ?? TaskOptions.DefaultRetryDelaySeconds),
            };
            var context = new TaskContext
            {
                Id = (string)frame["id"]!,
                Name = name,
                Args = frame["args"] as JsonArray ?? [],
                Kwargs = frame["kwargs"] as JsonObject ?? [],
                Retries = (int?)frame["retries"] ?? 0,
                Hostname = (string?)frame["hostname"] ?? "",
                Options = options,
                CancellationToken = cancellationToken,
            };

            try
            {
                var value = await definition.InvokeAsync(context).ConfigureAwait(false);
                return new JsonObject { ["status"] = "success", ["value"] = value };
            }
            catch (TaskRetryException retry)
            {
                var result = new JsonObject { ["status"] = "retry", ["eta"] = CeleryTime.Format(retry.Eta) };
                if (retry.InnerException is { } cause)
                {
                    result["cause"] = Failure(cause);
                }

                return result;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new JsonObject { ["status"] = "cancelled" };
            }
            catch (Exception e)
            {
                return Failure(e);
            }
        }

        private static JsonObject Failure(Exception e)
        {
            var types = new List<string>();
            for (var type = e.GetType(); type is not null; type = type.BaseType)
            {
                types.Add(type.FullName ?? type.Name);
            }

            return Failure(TaskExecution.Describe(e), e.ToString(), types);
        }

        private static JsonObject Failure(ClusterQueue.Results.ExceptionInfo info, string? traceback, List<string> types)
        {
            var failure = info.ToJson();
            failure["status"] = "failure";
            failure["traceback"] = traceback;
            failure["types"] = new JsonArray(types.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
            return failure;
        }

        private async Task SendAsync(JsonObject frame)
        {
            await _writing.WaitAsync().ConfigureAwait(false);
            try
            {
                await PoolFrames.WriteAsync(stream, frame).ConfigureAwait(false);
            }
            finally
            {
                _writing.Release();
            }
        }
    }
}
