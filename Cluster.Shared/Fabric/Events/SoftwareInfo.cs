using System.Reflection;
using System.Runtime.InteropServices;

namespace ClusterQueue.Fabric.Events;

/// <summary>The <c>sw_ident</c>, <c>sw_ver</c> and <c>sw_sys</c> of worker events, and Celery's rounded load average.</summary>
public static class SoftwareInfo
{
    /// <summary>Names this implementation, so monitors do not mistake a ClusterQueue node for a Python worker.</summary>
    public const string Ident = "cluster-queue";

    public static string Version { get; } = typeof(SoftwareInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(SoftwareInfo).Assembly.GetName().Version?.ToString(3)
        ?? "0.0.0";

    /// <summary>Python's <c>platform.system()</c>: Linux, Windows or Darwin.</summary>
    public static string System { get; } =
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? "Linux"
        : RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "Windows"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "Darwin"
        : RuntimeInformation.OSDescription;

    /// <summary>The 1, 5 and 15 minute load averages from <c>/proc/loadavg</c>, rounded up to 2 decimals; zeros where the system has none.</summary>
    public static IReadOnlyList<double> LoadAverage()
    {
        try
        {
            return ParseLoadAverage(File.ReadAllText("/proc/loadavg"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return [0.0, 0.0, 0.0];
        }
    }

    /// <summary>Reads the first three numbers of a <c>/proc/loadavg</c> line, each rounded up to 2 decimals as Celery's <c>load_average()</c> does.</summary>
    public static IReadOnlyList<double> ParseLoadAverage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) throw new FormatException($"a load average line needs three numbers: '{text.Trim()}'");
        return [.. parts.Take(3).Select(p => Math.Ceiling(double.Parse(p, global::System.Globalization.CultureInfo.InvariantCulture) * 100) / 100)];
    }
}
