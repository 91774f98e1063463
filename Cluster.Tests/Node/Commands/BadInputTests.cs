using System.CommandLine;
using ClusterQueue.Node;
using ClusterQueue.Tests.Protocol;

namespace ClusterQueue.Tests.Node.Commands;

public class BadInputTests
{
    [Theory]
    [InlineData("--args", "[2,", "--args is not valid JSON")]
    [InlineData("--args", "{\"x\": 1}", "--args must be a JSON array")]
    [InlineData("--kwargs", "[1]", "--kwargs must be a JSON object")]
    [InlineData("--kwargs", "{x: 1}", "--kwargs is not valid JSON")]
    [InlineData("--eta", "next tuesday", "--eta must be an ISO 8601 time")]
    public async Task MalformedData_Exits65_NamingTheOption_WithoutAStackTrace(string option, string value, string expected)
    {
        await using var kit = new CommandTestKit();

        var run = await kit.RunWithBrokerAsync("call", "tasks.add", option, value);

        Assert.Equal(ExitCodes.DataError, run.ExitCode);
        Assert.Equal(65, run.ExitCode);
        Assert.StartsWith("error: " + expected, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Output);
    }

    [Theory]
    [InlineData("not-a-url", "expected scheme://")]
    [InlineData("carrier-pigeon://coop", "no transport for scheme 'carrier-pigeon'")]
    [InlineData("sqlite://host/db", "a sqlite URL takes no host")]
    public async Task BadBrokerUrl_Exits78_WithTheMessage(string url, string expected)
    {
        foreach (var command in new[] { "call", "purge", "worker" })
        {
            var args = command switch
            {
                "call" => new[] { "call", "tasks.add", "--broker", url },
                "purge" => ["purge", "--force", "--broker", url],
                _ => ["worker", "--broker", url],
            };
            var run = await CommandTestKit.RunAsync(args);

            Assert.Equal(78, run.ExitCode);
            Assert.StartsWith("config error: cluster-queue.broker.url: ", run.Error, StringComparison.Ordinal);
            Assert.Contains(expected, run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BadDefaultRateLimit_Exits78_NamingTheSetting()
    {
        var folder = Directory.CreateTempSubdirectory("cq-bad-rate-").FullName;

        var error = await AssertWorkerRefusesConfigAsync(folder, "cluster-queue.task.default-rate-limit = \"5/fortnight\"", "cluster-queue.task.default-rate-limit");

        Assert.Contains("unknown unit 'fortnight'", error, StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    [Theory]
    [InlineData("cluster-queue.publish.serializer = pickle", "cluster-queue.publish.serializer")]
    [InlineData("cluster-queue.publish.accept-content = [json, pickle]", "cluster-queue.publish.accept-content")]
    [InlineData("cluster-queue.publish.compression = lzma", "cluster-queue.publish.compression")]
    public async Task PickleOrAnUnsupportedCompression_Exits78_NamingTheSetting(string line, string key)
    {
        var folder = Directory.CreateTempSubdirectory("cq-bad-publish-").FullName;

        await AssertWorkerRefusesConfigAsync(folder, line, key);

        Directory.Delete(folder, recursive: true);
    }

    [Theory]
    [InlineData("missing key file", "cluster-queue.publish.security.key-file", "cannot read")]
    [InlineData("key of another certificate", "cluster-queue.publish.security.key-file", "does not belong to the certificate")]
    [InlineData("unknown digest", "cluster-queue.publish.security.digest", "'md5' is not a supported digest")]
    [InlineData("unsigned messages accepted", "cluster-queue.publish.accept-content", "must be [\"auth\"]")]
    [InlineData("security without auth", "cluster-queue.publish.serializer", "must be auth")]
    public async Task BadSecuritySettings_Exit78_NamingTheSetting(string problem, string key, string expected)
    {
        using var keys = SigningKeys.Create();
        using var other = SigningKeys.Create("CN=Other");
        var (keyFile, digest, serializer, accept) = problem switch
        {
            "missing key file" => (keys.KeyFile + ".missing", "sha256", "auth", "[auth]"),
            "key of another certificate" => (other.KeyFile, "sha256", "auth", "[auth]"),
            "unknown digest" => (keys.KeyFile, "md5", "auth", "[auth]"),
            "unsigned messages accepted" => (keys.KeyFile, "sha256", "auth", "[json, auth]"),
            _ => (keys.KeyFile, "sha256", "json", "[json]"),
        };
        var text = $$"""
            cluster-queue.publish {
              serializer = {{serializer}}
              accept-content = {{accept}}
              security { key-file = "{{keyFile}}", certificate-file = "{{keys.CertificateFile}}", cert-store = "{{keys.StoreDirectory}}", digest = {{digest}} }
            }
            """;

        var error = await AssertWorkerRefusesConfigAsync(keys.Folder, text, key);

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    /// <summary>Starts a worker on a config file of <paramref name="text"/> in <paramref name="folder"/>; it must exit 78 naming <paramref name="key"/>, without a stack trace.</summary>
    /// <returns>What the worker wrote on stderr.</returns>
    private static async Task<string> AssertWorkerRefusesConfigAsync(string folder, string text, string key)
    {
        var config = Path.Combine(folder, "node.conf");
        await File.WriteAllTextAsync(config, text);

        var run = await CommandTestKit.RunAsync("worker", "--config", config, "--broker", "memory://");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains(key, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        return run.Error;
    }

    [Fact]
    public async Task BadResultBackendUrl_Exits78_NamingTheSetting()
    {
        var run = await CommandTestKit.RunAsync("result", "some-id", "--result-backend", "mongodb://x");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains("cluster-queue.result.backend", run.Error, StringComparison.Ordinal);
        Assert.Contains("unknown scheme 'mongodb'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResultStoreThatCannotBeOpened_Exits69_NamingTheBackend()
    {
        var url = "sqlite:///" + Path.Combine(Path.GetTempPath(), "cq-missing-" + Guid.NewGuid().ToString("N"), "results.db");

        var run = await CommandTestKit.RunAsync("result", "some-id", "--result-backend", url);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.StartsWith($"error: result backend {url} cannot be opened: ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("call", "tasks.add", "--priority", "12")]
    [InlineData("call", "tasks.add", "--countdown", "soon")]
    [InlineData("call", "tasks.add", "--no-such-option")]
    [InlineData("result")]
    [InlineData("no-such-command")]
    public async Task ParseErrors_Exit64_AndPrintTheErrorAndUsageOnStderr(params string[] args)
    {
        var run = await CommandTestKit.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("Usage:", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Output);
    }

    [Theory]
    [InlineData("--loglevel", "chatty", "--loglevel 'chatty' is not a level; use debug, info, warning, error or critical")]
    [InlineData("-O", "greedy", "greedy")]
    [InlineData("--concurrency", "-1", "--concurrency must be 0 or more, got -1")]
    [InlineData("--autoscale", "x,1", "--autoscale must be MAX or MAX,MIN with whole numbers of 0 or more, got 'x,1'")]
    [InlineData("--autoscale", "0", "--autoscale MAX must be 1 or more, got '0'")]
    public async Task Worker_BadFlag_Exits64_NamingIt(string option, string value, string expected)
    {
        var run = await CommandTestKit.RunAsync("worker", option, value, "--broker", "memory://");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_BadBrokerUrl_Exits78_BeforeStarting()
    {
        var run = await CommandTestKit.RunAsync("worker", "--broker", "rabbit:/nowhere");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.StartsWith("config error: cluster-queue.broker.url: broker URL 'rabbit:/nowhere'", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task Worker_AppFileThatIsNotAnAssembly_IsAUsageErrorNamingApp()
    {
        await using var kit = new CommandTestKit();
        var fake = Path.Combine(kit.Directory, "Tasks.dll");
        await File.WriteAllTextAsync(fake, "not a PE file");

        var run = await kit.RunWithBrokerAsync("worker", "-A", fake);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal($"error: --app: '{fake}' is not a .NET assembly", run.Error.Trim());
    }

    [Fact]
    public async Task PriorityOutOfRange_NamesTheOptionAndTheRange()
    {
        var run = await CommandTestKit.RunAsync("call", "tasks.add", "--priority", "12");

        Assert.StartsWith("--priority must be between 0 and 9, got 12", run.Error, StringComparison.Ordinal);
    }

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string> { "" };
        foreach (var command in NodeCommandLine.Build().Subcommands)
        {
            data.Add(command.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_OnEveryCommand_Exits0_AndDescribesEveryOption(string name)
    {
        var root = NodeCommandLine.Build();
        Command command = name == "" ? root : root.Subcommands.Single(c => c.Name == name);

        var run = await CommandTestKit.RunAsync(name == "" ? ["--help"] : [name, "--help"]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
        Assert.Contains(command.Description!, run.Output, StringComparison.Ordinal);
        foreach (var option in command.Options.Where(o => !o.Hidden))
        {
            Assert.Contains(option.Name, run.Output, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{name} {option.Name} has no description");
            Assert.Contains(option.Description!, run.Output, StringComparison.Ordinal);
        }

        foreach (var sub in command.Subcommands)
        {
            Assert.Contains(sub.Name, run.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_sqs_visibility_timeout_beyond_12_hours_exits_78_naming_the_limit()
    {
        var config = Path.Combine(Directory.CreateTempSubdirectory("cq-bad-sqs-").FullName, "node.conf");
        await File.WriteAllTextAsync(config, "cluster-queue.broker.sqs.visibility-timeout = 13h");

        var run = await CommandTestKit.RunAsync("worker", "--config", config, "--broker", "sqs://k:s@127.0.0.1:1");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains("cluster-queue.broker.sqs.visibility-timeout", run.Error, StringComparison.Ordinal);
        Assert.Contains("43200 s", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        File.Delete(config);
    }

    [Fact]
    public async Task Inspect_on_sqs_without_a_seed_exits_78_saying_control_travels_on_the_cluster()
    {
        var run = await CommandTestKit.RunAsync("inspect", "ping", "--broker", "sqs://k:s@127.0.0.1:1");

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains("remote control travels on the cluster only", run.Error, StringComparison.Ordinal);
        Assert.Contains("--seed", run.Error, StringComparison.Ordinal);
    }
}
