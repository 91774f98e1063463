using Akka.Configuration;
using AkkaConfig = Akka.Configuration.Config;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>
/// Hands the <c>akka</c> section of ClusterQueue's configuration to Akka.NET. The user's files are read by ClusterQueue's
/// own HOCON reader, which reports errors with file, line and column; Akka gets the validated tree, printed back as
/// HOCON that is well-formed by construction. (Akka 1.5.73's own parser never returns on some malformed input, such as
/// <c>a {\n b = [1, \n c = }</c>, so it must never see a user's file.) Akka's reference config stays the fallback.
/// </summary>
public static class AkkaConfiguration
{
    /// <summary>The root path of Akka's settings.</summary>
    public const string RootPath = "akka";

    private static readonly Lazy<AkkaConfig> ReferenceConfig = new(() =>
        From(ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string?>()).Configuration));

    /// <summary>The <c>akka</c> section of the embedded reference.conf alone: what a node runs with when no file is given.</summary>
    public static AkkaConfig Reference => ReferenceConfig.Value;

    /// <summary>The <c>akka</c> section of <paramref name="configuration"/> as Akka's <see cref="Config"/>.</summary>
    public static AkkaConfig From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(RootPath);
        if (!section.Exists())
        {
            return AkkaConfig.Empty;
        }

        try
        {
            return ConfigurationFactory.ParseString(ConfigurationPrinter.ToHocon(section, mask: false));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The text is printed from a checked tree, so this is a value Akka itself refuses.
            throw new ConfigException($"the akka section is not valid for Akka.NET: {e.Message}", key: RootPath);
        }
    }
}
