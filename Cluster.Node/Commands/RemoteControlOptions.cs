using System.CommandLine;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Pidbox;

namespace ClusterQueue.Node.Commands;

/// <summary>The options <c>inspect</c>, <c>control</c> and <c>status</c> share, as Celery's "Remote Control Options": destination, timeout, json, and the broker.</summary>
public sealed class RemoteControlOptions
{
    private readonly ConnectionOptions connection = new(withResultBackend: false);

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

    /// <summary>Adds every option to <paramref name="command"/>; they are recursive, so subcommands take them after their own arguments.</summary>
    public void AddTo(Command command)
    {
        Destination.Recursive = true;
        Timeout.Recursive = true;
        Json.Recursive = true;
        command.Options.Add(Destination);
        command.Options.Add(Timeout);
        command.Options.Add(Json);
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

    /// <summary>Loads the configuration layers and opens the broker for one remote-control call.</summary>
    public RemoteControlSession Open(ParseResult parseResult)
    {
        var settings = connection.Load(parseResult);
        var control = settings.Configuration.GetSettings<ControlSettings>("control");
        if (parseResult.GetValue(Timeout) is { } seconds)
        {
            control = control with { ReplyTimeout = TimeSpan.FromSeconds(seconds) };
        }

        var app = settings.OpenApp(new TaskRegistry(), withResults: false);
        return new RemoteControlSession(app, new ControlClient(app.Transport, control), control.ReplyTimeout);
    }
}

/// <summary>A broker connection and a control client, open for one command.</summary>
public sealed class RemoteControlSession(ClusterQueueApp app, ControlClient client, TimeSpan timeout) : IAsyncDisposable
{
    public ControlClient Client { get; } = client;

    /// <summary>How long the call gathers replies.</summary>
    public TimeSpan Timeout { get; } = timeout;

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
