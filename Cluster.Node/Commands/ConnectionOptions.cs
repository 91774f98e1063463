using System.CommandLine;

namespace ClusterQueue.Node.Commands;

/// <summary>The options every command that talks to a broker shares: <c>--broker</c>, <c>--result-backend</c> and <c>--config</c>.</summary>
/// <param name="withBroker">False for commands that only read results, which then take no <c>--broker</c>.</param>
/// <param name="withResultBackend">False for commands that only talk to nodes, which then take no <c>--result-backend</c>.</param>
public sealed class ConnectionOptions(bool withBroker = true, bool withResultBackend = true)
{
    public Option<string?> Broker { get; } = new("--broker", "-b")
    {
        Description = "Broker URL (amqp://user:password@host:5672/vhost, sqlite:///path.db, memory://name); overrides cluster-queue.broker.url.",
    };

    public Option<string?> ResultBackend { get; } = new("--result-backend")
    {
        Description = "Result backend URL (sqlite:///results.db, memory://); overrides cluster-queue.result.backend.",
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "HOCON file layered over reference.conf; CQ_ environment variables and flags still win over it.",
    };

    public void AddTo(Command command)
    {
        if (withBroker)
        {
            command.Options.Add(Broker);
        }

        if (withResultBackend)
        {
            command.Options.Add(ResultBackend);
        }

        command.Options.Add(Config);
    }

    /// <summary>The configuration overrides these flags stand for, keyed by HOCON path.</summary>
    public Dictionary<string, string?> Overrides(ParseResult parseResult)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (withBroker && parseResult.GetValue(Broker) is { } broker)
        {
            overrides["cluster-queue.broker.url"] = broker;
        }

        if (withResultBackend && parseResult.GetValue(ResultBackend) is { } backend)
        {
            overrides["cluster-queue.result.backend"] = backend;
        }

        return overrides;
    }

    /// <summary>Loads every configuration layer with these flags (and <paramref name="extra"/> ones) last.</summary>
    public NodeSettings Load(ParseResult parseResult, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var overrides = Overrides(parseResult);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        return NodeSettings.Load(parseResult.GetValue(Config), overrides, parseResult.InvocationConfiguration.Error);
    }
}
