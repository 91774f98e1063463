using System.CommandLine;
using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Node.Commands;

/// <summary><c>Cluster.Node config</c>: prints the effective <c>cluster-queue</c> and <c>akka</c> settings after every layer is applied.</summary>
public static class ConfigCommand
{
    public static Command Build()
    {
        var configFile = new Option<string?>("--config") { Description = "HOCON file that overrides reference.conf." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of HOCON." };
        var command = new Command("config", "Print the effective configuration: reference.conf < --config file < CQ_ environment variables.")
        {
            configFile,
            json,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var loaded = ClusterQueueConfiguration.Load(
                    parseResult.GetValue(configFile),
                    new Dictionary<string, string?>(),
                    Environment.GetEnvironmentVariables());
                foreach (var warning in loaded.Warnings)
                {
                    error.WriteLine($"warning: {warning}");
                }

                var order = ClusterQueueConfiguration.ReferenceKeys().Leaves;
                IConfigurationSection[] sections = [
                    loaded.Configuration.GetSection(ClusterQueueConfiguration.RootPath),
                    loaded.Configuration.GetSection(AkkaConfiguration.RootPath)];
                output.Write(parseResult.GetValue(json)
                    ? ConfigurationPrinter.ToJson(sections, order)
                    : string.Join("\n", sections.Select(section => ConfigurationPrinter.ToHocon(section, order))));
                return ExitCodes.Ok;
            }
            catch (ConfigException e)
            {
                error.WriteLine($"config error: {e.Message}");
                return ExitCodes.ConfigError;
            }
        });
        return command;
    }
}
