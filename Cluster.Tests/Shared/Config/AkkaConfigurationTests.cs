using ClusterQueue.Config;
using ClusterQueue.Node;
using ClusterQueue.Node.Commands;
using ClusterQueue.Tests.Node.Commands;

namespace ClusterQueue.Tests.Shared.Config;

/// <summary>One configuration, two readers: ClusterQueue's reader checks the files, Akka gets the checked tree.</summary>
public sealed class AkkaConfigurationTests : IDisposable
{
    // Akka 1.5.73's own parser never returns on this input; ours must refuse it at once, on every path.
    private const string Malformed = "a {\n b = [1, \n c = }";

    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(20);

    private readonly string _directory = Directory.CreateTempSubdirectory("cq-akka-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("")]
    [InlineData("akka ")]
    [InlineData("cluster-queue ")]
    public async Task Malformed_input_is_refused_with_file_line_and_column_on_every_config_path(string prefix)
    {
        var text = prefix.Length == 0 ? Malformed : prefix + "{\n" + Malformed + "\n}";
        var file = Write("bad.conf", text);

        var parse = Assert.Throws<ConfigException>(() => HoconReader.Parse(text, "bad.conf", _ => null));
        Assert.Contains("bad.conf:", parse.Message, StringComparison.Ordinal);

        var load = await Task.Run(() => Record.Exception(() =>
            NodeSettings.Load(file, new Dictionary<string, string?>(), TextWriter.Null))).WaitAsync(NoHang);
        Assert.IsType<ConfigException>(load);
        Assert.Contains(file + ":", load.Message, StringComparison.Ordinal);

        foreach (var command in new[] { "config", "worker", "call", "purge", "status" })
        {
            string[] args = command switch
            {
                "call" => ["call", "tasks.add", "--config", file],
                "purge" => ["purge", "--force", "--config", file],
                _ => [command, "--config", file],
            };
            var run = await CommandTestKit.RunAsync(args).WaitAsync(NoHang);

            Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
            var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Matches(@"bad\.conf:\d+:\d+", line);
        }
    }

    [Fact]
    public void The_akka_section_of_the_users_file_reaches_Akka_over_the_reference_defaults()
    {
        var file = Write("node.conf", "akka { loglevel = DEBUG, actor.default-dispatcher.throughput = 7 }");

        var settings = NodeSettings.Load(file, new Dictionary<string, string?>(), TextWriter.Null);

        Assert.Equal("DEBUG", settings.Worker.AkkaConfig.GetString("akka.loglevel"));
        Assert.Equal(7, settings.Worker.AkkaConfig.GetInt("akka.actor.default-dispatcher.throughput"));
        // Unchanged keys keep ClusterQueue's defaults from reference.conf.
        Assert.Equal("WARNING", settings.Worker.AkkaConfig.GetString("akka.stdout-loglevel"));
        Assert.False(settings.Worker.AkkaConfig.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
    }

    [Fact]
    public void Secrets_are_handed_to_Akka_unmasked_but_printed_masked()
    {
        var file = Write("node.conf", "akka.remote.dot-netty.tcp.ssl.certificate.password = \"s3cret\"");

        var settings = NodeSettings.Load(file, new Dictionary<string, string?>(), TextWriter.Null);

        Assert.Equal("s3cret", settings.Worker.AkkaConfig.GetString("akka.remote.dot-netty.tcp.ssl.certificate.password"));
        var printed = ConfigurationPrinter.ToHocon(settings.Configuration.GetSection(AkkaConfiguration.RootPath));
        Assert.DoesNotContain("s3cret", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_config_command_prints_the_akka_section_beside_cluster_queue()
    {
        var file = Write("node.conf", "akka.loglevel = DEBUG");

        var run = await CommandTestKit.RunAsync("config", "--config", file);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("cluster-queue {", run.Output, StringComparison.Ordinal);
        Assert.Contains("\nakka {", run.Output, StringComparison.Ordinal);
        Assert.Contains("loglevel = DEBUG", run.Output, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
