namespace ClusterQueue.Tests.Peer;

/// <summary>Runs this test assembly as a child process for cross-process tests: <c>dotnet Cluster.Tests.dll peer &lt;role&gt; …</c>.</summary>
public static class PeerProgram
{
    /// <summary>Each role is one small program; add a line here to add a role.</summary>
    private static readonly Dictionary<string, Func<string[], Task<int>>> Roles = new(StringComparer.Ordinal)
    {
        ["sqlite-publish"] = SqlitePeerRoles.PublishAsync,
        ["sqlite-consume"] = SqlitePeerRoles.ConsumeAsync,
    };

    public static int Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "peer")
        {
            Console.Error.WriteLine("usage: dotnet Cluster.Tests.dll peer <role> [arguments]");
            return 2;
        }

        if (!Roles.TryGetValue(args[1], out var role))
        {
            Console.Error.WriteLine($"unknown peer role '{args[1]}'; known roles: {string.Join(", ", Roles.Keys.Order())}");
            return 2;
        }

        try
        {
            return role(args[2..]).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"peer role {args[1]} failed: {e}");
            return 1;
        }
    }
}
