using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>The <c>result</c> command on a <c>file://</c> backend: a stored result, and a directory that is missing.</summary>
public sealed class FileResultCommandTests : IDisposable
{
    private readonly TempDatabase folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Result_StoredInTheDirectory_PrintsStateAndValue_Exit0()
    {
        await using (var backend = new FileResultBackend(folder.Directory))
        {
            await backend.StoreAsync(TaskResult.Succeeded("t-file", JsonValue.Create(9)));
        }

        var run = await CommandTestKit.RunAsync("result", "t-file", "--result-backend", "file://" + folder.Directory);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"state: SUCCESS{Environment.NewLine}result: 9{Environment.NewLine}", run.Output);
    }

    [Fact]
    public async Task MissingDirectory_Exits78_NamingTheSettingAndTheDirectory()
    {
        var missing = Path.Combine(folder.Directory, "absent");

        var run = await CommandTestKit.RunAsync("result", "t-file", "--result-backend", "file://" + missing);

        Assert.Equal(ExitCodes.ConfigError, run.ExitCode);
        Assert.Contains("cluster-queue.result.backend", run.Error, StringComparison.Ordinal);
        Assert.Contains($"'{missing}'", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }
}
