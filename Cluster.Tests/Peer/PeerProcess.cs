using System.Diagnostics;

namespace ClusterQueue.Tests.Peer;

/// <summary>Starts this test assembly as a child process in a peer role, with its standard streams redirected.</summary>
public static class PeerProcess
{
    public static Process Start(string role, params string[] arguments)
    {
        var start = new ProcessStartInfo
        {
            // The dotnet CLI tells the processes it starts where it lives; a bare "dotnet" is the fallback.
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cluster.Tests.dll"));
        start.ArgumentList.Add("peer");
        start.ArgumentList.Add(role);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start peer role {role}");
    }
}
