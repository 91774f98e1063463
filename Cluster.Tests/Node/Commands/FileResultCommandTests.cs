using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>The <c>result</c> command on a <c>file://</c> backend: a stored result, and a directory that is missing.</summary>
public sealed class FileResultCommandTests : StoredResultCommandContract, IDisposable
{
    private readonly TempDatabase folder = new();

    protected override string Url => "file://" + folder.Directory;

    protected override IResultBackend OpenBackend() => new FileResultBackend(folder.Directory);

    public void Dispose() => folder.Dispose();

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
