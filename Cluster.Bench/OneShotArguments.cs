namespace ClusterQueue.Bench;

/// <summary>Options and scratch files of the one-shot runners (worker-drain, amqp-interop, sqs-drain).</summary>
internal static class OneShotArguments
{
    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static int ReadInt(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
    }

    /// <summary>A state db path of its own for a worker node started by a runner.</summary>
    public static string TempStateDb(string runner) => Path.Combine(Path.GetTempPath(), $"cq-{runner}-state-" + Guid.NewGuid().ToString("N") + ".db");
}
