using System.Data.Common;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Node.Worker;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Node.Commands;

/// <summary>The bound settings a command runs with, after reference.conf, the <c>--config</c> file, <c>CQ_</c> variables and flags.</summary>
public sealed record NodeSettings(
    IConfiguration Configuration,
    BrokerSettings Broker,
    ResultSettings Result,
    PublishSettings Publish,
    WorkerSettings Worker,
    TaskDefaults TaskDefaults)
{
    /// <summary>Loads and validates every layer; warnings go to <paramref name="warnings"/>, problems are <see cref="ConfigException"/>s.</summary>
    public static NodeSettings Load(string? configFile, IReadOnlyDictionary<string, string?> overrides, TextWriter warnings)
    {
        var loaded = ClusterQueueConfiguration.Load(configFile, overrides, Environment.GetEnvironmentVariables());
        foreach (var warning in loaded.Warnings)
        {
            warnings.WriteLine($"warning: {warning}");
        }

        var configuration = loaded.Configuration;
        var settings = new NodeSettings(
            configuration,
            configuration.GetSettings<BrokerSettings>("broker"),
            configuration.GetSettings<ResultSettings>("result"),
            configuration.GetSettings<PublishSettings>("publish"),
            configuration.GetSettings<WorkerSettings>("node") with { AkkaConfig = AkkaConfiguration.From(configuration) },
            configuration.GetSettings<TaskDefaults>("task"));
        try
        {
            settings.Broker.Validate();
            settings.Result.Validate();
            settings.Publish.Validate();
            settings.Worker.Validate();
            configuration.GetSettings<ClusterQueue.Fabric.ClusterPlane.ClusterSettings>("cluster").Validate();
            settings.TaskDefaults.ApplyTo(new TaskOptions());
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(e.Message, key: e.ParamName);
        }
        catch (FormatException e)
        {
            throw new ConfigException(e.Message, key: "cluster-queue.task.default-rate-limit");
        }

        try
        {
            BrokerUrl.Parse(settings.Broker.Url);
        }
        catch (BrokerUrlException e)
        {
            throw BadBrokerUrl(e);
        }

        return settings;
    }

    /// <summary>The broker URL as it may be shown: a password in it is masked.</summary>
    public string DisplayBroker => ConfigurationPrinter.MaskValue("url", Broker.Url) ?? "";

    /// <summary>The result backend URL as it may be shown: a password in it is masked.</summary>
    public string DisplayResultBackend => ConfigurationPrinter.MaskValue("backend", Result.Backend) ?? "";

    /// <summary>
    /// Opens the broker and, with <paramref name="withResults"/>, the result backend. A URL that cannot work is a
    /// <see cref="ConfigException"/> naming its setting; a store that cannot be opened is a <see cref="CommandException"/>
    /// with <see cref="ExitCodes.Unavailable"/>.
    /// </summary>
    public ClusterQueueApp OpenApp(TaskRegistry tasks, ILoggerFactory? logging = null, bool withResults = true)
    {
        try
        {
            return ClusterQueueApp.Open(Broker, withResults ? Result : null, Publish, tasks.UseDefaults(TaskDefaults), logging);
        }
        catch (BrokerUrlException e)
        {
            throw BadBrokerUrl(e);
        }
        catch (UnsupportedResultBackendException e)
        {
            throw BadResultBackendUrl(e);
        }
        catch (DbException e)
        {
            // The SQLite transport reports its own failures as TransportException, so this one is the result store
            // (SQLite's file or PostgreSQL's server).
            throw ResultBackendUnavailable(e);
        }
    }

    /// <summary>Opens the result backend alone, for commands that only read results; failures as in <see cref="OpenApp"/>.</summary>
    public IResultBackend OpenResults()
    {
        try
        {
            return ResultBackends.Open(Result);
        }
        catch (UnsupportedResultBackendException e)
        {
            throw BadResultBackendUrl(e);
        }
        catch (DbException e)
        {
            throw ResultBackendUnavailable(e);
        }
    }

    private static ConfigException BadResultBackendUrl(UnsupportedResultBackendException e) =>
        new($"cluster-queue.result.backend: {e.Message}", key: "cluster-queue.result.backend");

    private CommandException ResultBackendUnavailable(DbException e) =>
        new(ExitCodes.Unavailable, $"result backend {DisplayResultBackend} cannot be opened: {e.Message}");

    private static ConfigException BadBrokerUrl(BrokerUrlException e) =>
        new($"cluster-queue.broker.url: {e.Message}", key: "cluster-queue.broker.url");
}
