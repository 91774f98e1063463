using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClusterQueue.Node.Fabric;

/// <summary>The <c>rusage</c> part of the <c>stats</c> reply: Python's <c>resource.getrusage(RUSAGE_SELF)</c> fields, from what .NET exposes.</summary>
internal static class ResourceUsage
{
    public static JsonObject Current()
    {
        using var process = Process.GetCurrentProcess();
        var usage = new JsonObject
        {
            ["utime"] = process.UserProcessorTime.TotalSeconds,
            ["stime"] = process.PrivilegedProcessorTime.TotalSeconds,
            // getrusage reports kilobytes on Linux.
            ["maxrss"] = process.PeakWorkingSet64 / 1024,
        };

        // Counters .NET does not expose are reported as 0, as getrusage does on systems that do not keep them.
        foreach (var name in new[] { "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock", "oublock", "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw" })
        {
            usage[name] = 0;
        }

        return usage;
    }
}
