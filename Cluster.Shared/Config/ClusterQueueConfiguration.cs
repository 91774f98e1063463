using System.Collections;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>The effective configuration and the warnings found while loading it.</summary>
public sealed record LoadedConfiguration(IConfigurationRoot Configuration, IReadOnlyList<string> Warnings);

/// <summary>
/// Loads ClusterQueue's configuration in layers, the last winning: the embedded reference.conf, the user's file,
/// <c>CQ_</c> environment variables, then command-line flags.
/// </summary>
public static class ClusterQueueConfiguration
{
    /// <summary>The root path that every ClusterQueue setting lives under.</summary>
    public const string RootPath = "cluster-queue";

    private const string ReferenceResource = "ClusterQueue.reference.conf";

    private static readonly Lazy<string> Reference = new(ReadReference);

    // Parsed once: the known keys never change within a process, and every Load checks against them.
    private static readonly Lazy<ReferenceKeys> KnownKeys = new(() => new ReferenceKeys(HoconReader.Parse(Reference.Value, "reference.conf", _ => null)));

    /// <summary>The text of the embedded reference.conf.</summary>
    public static string ReferenceText() => Reference.Value;

    /// <summary>The keys reference.conf declares, which are all the keys ClusterQueue knows.</summary>
    public static ReferenceKeys ReferenceKeys() => KnownKeys.Value;

    /// <summary>
    /// Loads the layers. The user file shares one HOCON tree with reference.conf, so it may refer to defaults
    /// (<c>${cluster-queue.node.queues}</c>) and extend lists with <c>+=</c>. Substitutions look up
    /// <paramref name="environment"/> when a path is not set.
    /// </summary>
    public static LoadedConfiguration Load(string? userFile, IReadOnlyDictionary<string, string?> overrides, IDictionary environment)
    {
        var warnings = new List<string>();
        List<HoconInput> inputs = [HoconInput.String(ReferenceText(), "reference.conf")];
        if (userFile is not null)
        {
            inputs.Add(HoconInput.File(userFile));
        }

        var configuration = new ConfigurationBuilder()
            .Add(new HoconConfigurationSource { Inputs = inputs, Environment = name => environment[name]?.ToString() })
            .Add(new ClusterQueueEnvironmentProvider(environment, warnings))
            .Add(new CommandLineOverridesProvider(overrides))
            .Build();
        warnings.AddRange(UnknownKeyWarnings(configuration, ReferenceKeys()));
        return new LoadedConfiguration(configuration, warnings);
    }

    /// <summary>Warns about every key under <c>cluster-queue</c> that reference.conf does not declare, naming the nearest known key.</summary>
    public static IEnumerable<string> UnknownKeyWarnings(IConfiguration configuration, ReferenceKeys known)
    {
        var keys = configuration.GetSection(RootPath).AsEnumerable().Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var parents = keys.Select(ConfigurationPath.GetParentPath).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var key in keys.Where(k => !parents.Contains(k)).Order(StringComparer.Ordinal))
        {
            var dotted = key.Replace(':', '.');
            if (!known.IsKnown(dotted))
            {
                yield return $"unknown key {dotted}; did you mean {known.Nearest(dotted)}?";
            }
        }
    }

    private static string ReadReference()
    {
        using var stream = typeof(ClusterQueueConfiguration).Assembly.GetManifestResourceStream(ReferenceResource)
            ?? throw new InvalidOperationException($"embedded resource {ReferenceResource} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
