using System.Diagnostics;

namespace ClusterQueue.Tests.MultiHost;

/// <summary>
/// Nodes on several hosts, for real: <c>scripts/multi-host.sh</c> puts a RabbitMQ, three workers and a client in
/// five Linux network namespaces joined by veth pairs, and checks over the cluster carrier alone (the pidbox off on
/// every worker) that the three are Up in one cluster, that rate_limit and inspect reach each, and that a revoke made
/// while one was stopped reaches it when it rejoins. Needs root, as CI has; without it the test fails, never skips.
/// </summary>
public sealed class MultiHostTests
{
    [Fact]
    public async Task Three_workers_in_three_namespaces_form_one_cluster_that_a_fourth_namespace_controls()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "ClusterQueue.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("the repository root was not found above the test binaries");
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "multi-host.sh")])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CQ_NODE_DLL"] = Path.Combine(AppContext.BaseDirectory, "Cluster.Node.dll");
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var errors = script.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await script.WaitForExitAsync(limit.Token);

        var text = await output + await errors;
        Assert.True(script.ExitCode == 0, $"multi-host.sh exited {script.ExitCode}:\n{text}");
        Assert.Contains("multi-host: PASS", text);
    }
}
