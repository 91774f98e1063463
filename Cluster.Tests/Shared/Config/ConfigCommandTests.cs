using System.CommandLine;
using ClusterQueue.Node;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class ConfigCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await NodeCommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task MalformedFile_ExitsWithConfigError_AndOneClearLine()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", "cluster-queue {\n  node.concurrency = \n}\n");
        var (exitCode, output, error) = await Run("config", "--config", file);
        Assert.Equal(ExitCodes.ConfigError, exitCode);
        Assert.Equal(78, exitCode);
        Assert.Equal(
            $"config error: {file}:2:22: missing value: expected a value for key 'cluster-queue.node.concurrency' after '=' but found end of line{Environment.NewLine}",
            error);
        Assert.Empty(output);
    }

    [Fact]
    public async Task MissingFile_ExitsWithConfigError()
    {
        using var dir = new TempDirectory();
        var (exitCode, _, error) = await Run("config", "--config", Path.Combine(dir.Path, "absent.conf"));
        Assert.Equal(ExitCodes.ConfigError, exitCode);
        Assert.StartsWith("config error: ", error, StringComparison.Ordinal);
        Assert.Contains("absent.conf", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidFile_PrintsTheEffectiveTree_MasksSecrets_AndWarnsOnStderr()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("node.conf", """
            cluster-queue.node.concurrency = 6
            cluster-queue.node.concurency = 6
            cluster-queue.broker.url = "amqp://guest:hunter2@rabbit:5672//"
            cluster-queue.broker.sqs.secret-access-key = "abc123"
            """);
        var (exitCode, output, error) = await Run("config", "--config", file);
        Assert.Equal(ExitCodes.Ok, exitCode);
        Assert.StartsWith("cluster-queue {", output, StringComparison.Ordinal);
        Assert.Contains("    concurrency = 6\n", output, StringComparison.Ordinal);
        Assert.Contains("    queues = [celery]\n", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("  node {", StringComparison.Ordinal) < output.IndexOf("  broker {", StringComparison.Ordinal), "sections follow reference.conf's order");
        Assert.Contains("url = \"amqp://guest:****@rabbit:5672//\"", output, StringComparison.Ordinal);
        Assert.Contains("secret-access-key = \"****\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", output, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", output, StringComparison.Ordinal);
        Assert.Equal($"warning: unknown key cluster-queue.node.concurency; did you mean cluster-queue.node.concurrency?{Environment.NewLine}", error);
    }

    [Fact]
    public async Task Json_PrintsParseableJsonWithListsAsArrays()
    {
        var (exitCode, output, _) = await Run("config", "--json");
        Assert.Equal(ExitCodes.Ok, exitCode);
        using var document = System.Text.Json.JsonDocument.Parse(output);
        var node = document.RootElement.GetProperty("cluster-queue").GetProperty("node");
        Assert.Equal("4", node.GetProperty("prefetch-multiplier").GetString());
        Assert.Equal("celery", node.GetProperty("queues")[0].GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, document.RootElement.GetProperty("cluster-queue").GetProperty("publish").GetProperty("compression").ValueKind);
    }
}
