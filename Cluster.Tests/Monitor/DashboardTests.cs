using System.Diagnostics;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Monitor.Http;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Fabric;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Monitor;

/// <summary>The dashboard in headless Chromium against a monitor watching a real worker: workers and tasks end up in the DOM.</summary>
[Trait("Category", "Browser")]
public sealed class DashboardTests
{
    private static string Chromium => Environment.GetEnvironmentVariable("CQ_TEST_CHROMIUM") is { Length: > 0 } path
        ? path
        : throw new InvalidOperationException("CQ_TEST_CHROMIUM is not set: run the tests through ./test.sh, which installs Debian's chromium and sets it");

    [Fact]
    public async Task The_dashboard_shows_the_worker_and_its_tasks_and_renders_a_screenshot()
    {
        await using var kit = ClusterKit.Create(ClusterBroker.Memory);
        var app = kit.App();
        await kit.StartAsync(kit.Settings("dash@mon") with { SendTaskEvents = true }, app);
        var settings = new MonitorSettings { Listen = "127.0.0.1:0", StateDb = "" };
        await using var monitor = await MonitorNode.StartAsync(
            settings, new ClusterSettings { Seeds = [kit.Seed!] }, ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        await using var api = await MonitorApi.StartAsync(monitor, settings, NullLoggerFactory.Instance);
        string shown;
        var deadline = DateTime.UtcNow + ClusterKit.Patience;
        do
        {
            // Until pub-sub gossip carries the monitor's subscription, task events are dropped; send until one lands.
            var sent = await app.ApplyAsync("tasks.add", [20, 22]);
            await app.Results.WaitAsync(sent.Id, ClusterKit.Patience);
            shown = sent.Id;
            await Task.Delay(200);
        }
        while (monitor.State.Task(shown)?.State != TaskStates.Success && DateTime.UtcNow < deadline);

        var url = api.Urls.First() + "/";
        var dom = await ChromiumAsync("--dump-dom", url);
        var screenshot = Path.Combine(Path.GetTempPath(), $"cq-dashboard-{Guid.NewGuid():N}.png");
        await ChromiumAsync($"--screenshot={screenshot}", "--window-size=1400,900", url);

        Assert.Contains("ClusterQueue monitor", dom, StringComparison.Ordinal);
        Assert.Contains("<td>dash@mon</td>", dom, StringComparison.Ordinal);
        Assert.Contains(shown, dom, StringComparison.Ordinal);
        Assert.Contains("state-SUCCESS", dom, StringComparison.Ordinal);
        Assert.Contains("tasks.add (", dom, StringComparison.Ordinal);
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', $"the screenshot is {png.Length} bytes, not a rendered page");
        if (Environment.GetEnvironmentVariable("CQ_DASHBOARD_SCREENSHOT") is { Length: > 0 } keep)
        {
            File.Copy(screenshot, keep, overwrite: true);
        }

        File.Delete(screenshot);
    }

    /// <summary>Runs headless Chromium on the page, letting its scripts fetch for a few seconds of virtual time.</summary>
    private static async Task<string> ChromiumAsync(params string[] arguments)
    {
        var profile = Directory.CreateTempSubdirectory("cq-chromium-").FullName;
        var start = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={profile}", "--virtual-time-budget=8000" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Chromium}");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"chromium exited with {process.ExitCode}: {await errors}");
            }

            return await output;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
