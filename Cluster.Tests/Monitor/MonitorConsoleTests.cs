using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Processes;

namespace ClusterQueue.Tests.Monitor;

/// <summary>`top` driven in tmux like a person at a terminal: two worker processes, the console, a key that terminates a running task.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
public sealed class MonitorConsoleTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    [Fact]
    public async Task Pressing_t_on_a_running_sleep_terminates_it_and_the_console_shows_it_REVOKED()
    {
        await using var dir = new ProcessTestDirectory();
        var port = FreePort();
        var seed = $"akka.tcp://cluster-queue@127.0.0.1:{port}";
        await using var w1 = NodeProcess.Start(dir.Path, ["worker", "-n", "w1@top", "-E", "-c", "2", "--cluster-port", $"{port}", .. dir.Connection]);
        await w1.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "w1 to be ready", Generous);
        await using var w2 = NodeProcess.Start(dir.Path, ["worker", "-n", "w2@top", "-E", "-c", "2", "--seed", seed, .. dir.Connection]);
        await w2.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "w2 to be ready", Generous);

        await using var tmux = await Tmux.StartAsync(dir.Path,
            ["dotnet", Path.Combine(AppContext.BaseDirectory, "Cluster.Monitor.dll"), "top", "--broker", dir.BrokerUrl, "--seed", seed]);
        await tmux.WaitForScreenAsync(s => s.Contains("w1@top", StringComparison.Ordinal) && s.Contains("w2@top", StringComparison.Ordinal), "both workers in the console");

        // Events sent before pub-sub gossip reached the workers are dropped, so send until one shows.
        var deadline = DateTime.UtcNow + Generous;
        while (true)
        {
            var probe = await dir.Client.SendTaskAsync("tasks.add", [1, 1]);
            if (await tmux.ScreenShowsAsync(probe.Id, TimeSpan.FromSeconds(2))) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no task reached the console:\n{await tmux.CaptureAsync()}");
        }

        var sleep = await dir.Client.SendTaskAsync("tasks.sleep", [60]);
        await tmux.WaitForScreenAsync(s => Row(s, sleep.Id)?.Contains("STARTED", StringComparison.Ordinal) == true, "the sleep to be STARTED at the top");
        await tmux.SendKeysAsync("t");

        var screen = await tmux.WaitForScreenAsync(s => Row(s, sleep.Id)?.Contains("REVOKED", StringComparison.Ordinal) == true, "the sleep to show REVOKED");
        Assert.Contains("revoke:", screen, StringComparison.Ordinal);
        Assert.Equal(TaskStates.Revoked, (await dir.Client.Results.WaitAsync(sleep.Id, Generous)).Status);

        await tmux.SendKeysAsync("q");
        await tmux.WaitForExitAsync();
    }

    private static string? Row(string screen, string id) => screen.Split('\n').FirstOrDefault(l => l.Contains(id, StringComparison.Ordinal));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A detached tmux session of its own running one command, read with capture-pane.</summary>
    private sealed class Tmux : IAsyncDisposable
    {
        private readonly string session = "cq-top-" + Guid.NewGuid().ToString("N")[..8];

        public static async Task<Tmux> StartAsync(string directory, string[] command)
        {
            var tmux = new Tmux();
            // remain-on-exit keeps the pane to read after the command ends; -x/-y give the tables room.
            await RunAsync(["new-session", "-d", "-s", tmux.session, "-x", "220", "-y", "60", "-c", directory, .. command]);
            await RunAsync(["set-option", "-t", tmux.session, "remain-on-exit", "on"]);
            return tmux;
        }

        public async Task<string> CaptureAsync() => await RunAsync(["capture-pane", "-p", "-t", Target]);

        public async Task<bool> ScreenShowsAsync(string text, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (DateTime.UtcNow < deadline)
            {
                if ((await CaptureAsync()).Contains(text, StringComparison.Ordinal)) return true;
                await Task.Delay(100);
            }

            return false;
        }

        public async Task<string> WaitForScreenAsync(Func<string, bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + Generous;
            while (true)
            {
                var screen = await CaptureAsync();
                if (condition(screen)) return screen;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Generous} for {what}; the screen was:\n{screen}");
                await Task.Delay(100);
            }
        }

        public Task SendKeysAsync(string keys) => RunAsync(["send-keys", "-t", Target, keys]);

        public async Task WaitForExitAsync()
        {
            var deadline = DateTime.UtcNow + Generous;
            while ((await RunAsync(["display-message", "-p", "-t", Target, "#{pane_dead}"])).Trim() != "1")
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the console did not quit:\n{await CaptureAsync()}");
                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await RunAsync(["kill-session", "-t", session]);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        private string Target => session + ":0.0";

        private static async Task<string> RunAsync(string[] arguments)
        {
            var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start tmux");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (process.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} exited with {process.ExitCode}: {await errors}");
            return await output;
        }
    }
}
