using System.Text.Json.Nodes;
using ClusterQueue.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Results;

namespace ClusterQueue.Tests.Node.Commands;

/// <summary>The <c>result</c> command reading a result that a backend stored, for each store that another process can open by URL.</summary>
public abstract class StoredResultCommandContract
{
    /// <summary>The backend under test, opened in this process.</summary>
    protected abstract IResultBackend OpenBackend();

    /// <summary>The URL by which the command opens the same store.</summary>
    protected abstract string Url { get; }

    [Fact]
    public async Task Result_Stored_PrintsStateAndValue_Exit0()
    {
        await using (var backend = OpenBackend())
        {
            await backend.StoreAsync(TaskResult.Succeeded("t-stored", JsonValue.Create(9)));
        }

        var run = await CommandTestKit.RunAsync("result", "t-stored", "--result-backend", Url);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal($"state: SUCCESS{Environment.NewLine}result: 9{Environment.NewLine}", run.Output);
    }
}

/// <summary>The <c>result</c> command on a <c>postgresql://</c> backend: a stored result, and a server that refuses the login.</summary>
[Trait("Server", "PostgreSQL")]
public sealed class PostgresResultCommandTests : StoredResultCommandContract, IDisposable
{
    private readonly PostgresTestSchema schema = new();

    protected override string Url => schema.Url();

    protected override IResultBackend OpenBackend() => new PostgresResultBackend(schema.ConnectionString);

    public void Dispose() => schema.Dispose();

    [Fact]
    public async Task PostgresqlThatRefusesTheLogin_Exits69_WithThePasswordMasked()
    {
        var url = schema.Url().Replace("cqtest:cqtest@", "cqtest:wrong-pw@", StringComparison.Ordinal);

        var run = await CommandTestKit.RunAsync("result", "t-pg", "--result-backend", url);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.StartsWith("error: result backend postgresql://cqtest:****@", run.Error, StringComparison.Ordinal);
        Assert.Contains("cannot be opened", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }
}
