using System.CommandLine;
using System.Globalization;

namespace ClusterQueue.Node.Commands;

/// <summary>How a command finds the cluster: <c>--seed</c> and the interface remoting binds to; the <c>cluster-queue.cluster</c> keys as flags.</summary>
public sealed class ClusterOptions(bool withPort)
{
    public Option<string[]> Seeds { get; } = new("--seed")
    {
        Description = "Seed node of the cluster, e.g. akka.tcp://cluster-queue@10.0.0.5:4053; repeat for more. Overrides cluster-queue.cluster.seeds.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Hostname { get; } = new("--cluster-host")
    {
        Description = "Interface Akka.Remote binds to and other members reach this process by (cluster-queue.cluster.hostname; default 127.0.0.1).",
    };

    public Option<int?> Port { get; } = new("--cluster-port")
    {
        Description = "TCP port of Akka.Remote; 0 picks a free one, seeds need a fixed one (cluster-queue.cluster.port).",
    };

    public void AddTo(Command command, bool recursive = false)
    {
        Seeds.Recursive = recursive;
        Hostname.Recursive = recursive;
        Port.Recursive = recursive;
        command.Options.Add(Seeds);
        command.Options.Add(Hostname);
        if (withPort)
        {
            command.Options.Add(Port);
        }
    }

    /// <summary>The flags given, as <c>cluster-queue.cluster.*</c> overrides.</summary>
    public Dictionary<string, string?> Overrides(ParseResult parseResult)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (parseResult.GetValue(Seeds) is { Length: > 0 } seeds)
        {
            if (seeds.Any(string.IsNullOrWhiteSpace))
            {
                throw CommandException.Usage("--seed must be an address like akka.tcp://cluster-queue@10.0.0.5:4053, not empty");
            }

            overrides["cluster-queue.cluster.seeds"] = string.Join(',', seeds);
        }

        if (parseResult.GetValue(Hostname) is { } hostname)
        {
            overrides["cluster-queue.cluster.hostname"] = hostname;
        }

        if (withPort && parseResult.GetValue(Port) is { } port)
        {
            if (port is < 0 or > 65535)
            {
                throw CommandException.Usage($"--cluster-port must be 0 to 65535, got {port}");
            }

            overrides["cluster-queue.cluster.port"] = port.ToString(CultureInfo.InvariantCulture);
        }

        return overrides;
    }
}
