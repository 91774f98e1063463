using ClusterQueue.Client;

namespace ClusterQueue.Node.Commands;

/// <summary>Empties task queues and reports how many messages each held; shared by <c>purge</c> and <c>worker --purge</c>.</summary>
public static class QueuePurger
{
    /// <summary>Purges each queue, declaring it first as Celery does, so a queue nobody used yet counts 0 instead of failing.</summary>
    public static async Task<IReadOnlyList<(string Queue, long Removed)>> PurgeAsync(
        ClusterQueueApp app,
        IEnumerable<string> queues,
        CancellationToken cancellationToken)
    {
        var counts = new List<(string, long)>();
        foreach (var queue in queues)
        {
            await app.DeclareQueueAsync(queue, cancellationToken).ConfigureAwait(false);
            counts.Add((queue, await app.Transport.PurgeQueueAsync(queue, cancellationToken).ConfigureAwait(false)));
        }

        return counts;
    }

    /// <summary>Celery's wording: <c>Purged 3 messages from 1 known task queue.</c>, after one line per queue.</summary>
    public static async Task WriteAsync(IReadOnlyList<(string Queue, long Removed)> counts, TextWriter output)
    {
        foreach (var (queue, removed) in counts)
        {
            await output.WriteLineAsync($"{queue}: {removed}").ConfigureAwait(false);
        }

        var total = counts.Sum(c => c.Removed);
        await output.WriteLineAsync(
            $"Purged {total} message{(total == 1 ? "" : "s")} from {counts.Count} known task queue{(counts.Count == 1 ? "" : "s")}.").ConfigureAwait(false);
    }

    /// <summary>Splits <c>-Q a,b</c> into queue names; empty names are a usage error naming the option.</summary>
    public static IReadOnlyList<string>? ParseQueues(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        var names = text.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(string.IsNullOrEmpty))
        {
            throw CommandException.Usage($"{option} takes comma-separated queue names without empty ones, got '{text}'");
        }

        return names;
    }
}
