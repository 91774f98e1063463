using System.CommandLine;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Control;

namespace ClusterQueue.Node.Commands;

/// <summary>The options <c>inspect</c>, <c>control</c> and <c>status</c> share, as Celery's "Remote Control Options": destination, timeout, json, the carrier, the cluster's seeds and the broker.</summary>
public sealed class RemoteControlOptions
{
    private readonly ConnectionOptions connection = new(withResultBackend: false);
    private readonly ClusterOptions cluster = new(withPort: false);

    public RemoteControlOptions() => OptionValues.RequireSeconds(Timeout);

    public Option<string?> Destination { get; } = new("--destination", "-d")
    {
        Description = "Comma-separated node names to ask, e.g. celery@host1,celery@host2; default: every node. With names, the call ends as soon as each has replied.",
    };

    public Option<double?> Timeout { get; } = new("--timeout", "-t")
    {
        Description = "Seconds to wait for replies; default: cluster-queue.control.reply-timeout (1 s, as Celery).",
    };

    public Option<bool> Json { get; } = new("--json", "-j")
    {
        Description = "Print the replies as JSON instead of text.",
    };

    public Option<string?> Carrier { get; } = new("--carrier")
    {
        Description = "Which plane carries the command: auto (the cluster when a --seed answers, else the broker's pidbox), cluster or broker; default cluster-queue.control.carrier.",
    };

    /// <summary>Adds every option to <paramref name="command"/>; they are recursive, so subcommands take them after their own arguments.</summary>
    public void AddTo(Command command)
    {
        Destination.Recursive = true;
        Timeout.Recursive = true;
        Json.Recursive = true;
        command.Options.Add(Destination);
        command.Options.Add(Timeout);
        command.Options.Add(Json);
        Carrier.Recursive = true;
        Carrier.AcceptOnlyFromAmong("auto", "cluster", "broker");
        command.Options.Add(Carrier);
        cluster.AddTo(command, recursive: true);
        foreach (var option in new Option[] { connection.Broker, connection.Config })
        {
            option.Recursive = true;
            command.Options.Add(option);
        }
    }

    /// <summary>The nodes named by <c>--destination</c>, or every node; an empty name is a usage error.</summary>
    public ControlTarget Target(ParseResult parseResult)
    {
        if (parseResult.GetValue(Destination) is not { } text)
        {
            return ControlTarget.All;
        }

        var names = text.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(name => name.Length == 0))
        {
            throw CommandException.Usage($"--destination must be comma-separated node names without empty entries, got '{text}'");
        }

        return ControlTarget.Nodes(names);
    }

    /// <summary>
    /// Loads the configuration layers and opens a carrier for one remote-control call: the cluster when a seed answers
    /// (or when <c>--carrier cluster</c> insists), the broker's pidbox otherwise.
    /// </summary>
    public async Task<RemoteControlSession> OpenAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var settings = connection.Load(parseResult, cluster.Overrides(parseResult));
        var control = settings.Configuration.GetSettings<ControlSettings>("control");
        if (parseResult.GetValue(Timeout) is { } seconds)
        {
            control = control with { ReplyTimeout = TimeSpan.FromSeconds(seconds) };
        }

        var carrier = parseResult.GetValue(Carrier) ?? control.Carrier;
        if (carrier is not ("auto" or "cluster" or "broker"))
        {
            throw new ConfigException($"cluster-queue.control.carrier must be auto, cluster or broker, got '{carrier}'", key: "cluster-queue.control.carrier");
        }

        var clusterSettings = settings.Configuration.GetSettings<ClusterSettings>("cluster");
        ClusterUnreachableException? unreachable = null;
        if (carrier != "broker" && (carrier == "cluster" || clusterSettings.Seeds.Count > 0))
        {
            try
            {
                clusterSettings.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ConfigException(e.Message, key: e.ParamName);
            }

            try
            {
                var client = await ClusterControlClient.ConnectAsync(clusterSettings, control, AkkaConfiguration.From(settings.Configuration), control.ConnectTimeout, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                return new RemoteControlSession(null, client, control.ReplyTimeout);
            }
            catch (ClusterUnreachableException e) when (carrier == "auto")
            {
                unreachable = e;
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"note: the cluster is out of reach ({e.Message}); using the broker's pidbox").ConfigureAwait(false);
            }
            catch (ClusterUnreachableException e)
            {
                throw new CommandException(ExitCodes.Unavailable, $"cannot reach the cluster: {e.Message}");
            }
        }

        var app = settings.OpenApp(new TaskRegistry(), withResults: false);
        if (!app.Transport.Broadcasts)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            if (unreachable is not null)
            {
                throw new CommandException(ExitCodes.Unavailable, $"cannot reach the cluster, and broker {settings.DisplayBroker} has no broadcast to fall back on: {unreachable.Message}");
            }

            throw new ConfigException(
                $"broker {settings.DisplayBroker} has no broadcast, so remote control travels on the cluster only: give a node's address with --seed or cluster-queue.cluster.seeds",
                key: "cluster-queue.cluster.seeds");
        }

        return new RemoteControlSession(app, new PidboxClient(app.Transport, control), control.ReplyTimeout);
    }
}

/// <summary>A carrier, and the broker connection under it when it is the pidbox, open for one command.</summary>
public sealed class RemoteControlSession(ClusterQueueApp? app, IControlCarrier client, TimeSpan timeout) : IAsyncDisposable
{
    public IControlCarrier Client { get; } = client;

    /// <summary>How long the call gathers replies.</summary>
    public TimeSpan Timeout { get; } = timeout;

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().ConfigureAwait(false);
        if (app is not null) await app.DisposeAsync().ConfigureAwait(false);
    }
}
