using System.Threading.Channels;

namespace ClusterQueue.Transport.Sqs;

/// <summary>
/// Gathers single requests into SQS batch calls of up to ten entries. A call takes whatever is waiting, after at most
/// <c>linger</c> for more to come, so a busy caller pays one request per ten messages.
/// </summary>
/// <remarks>
/// Each entry completes on its own: a batch call answers success or failure per entry. Acks and visibility changes
/// linger a few milliseconds, which nobody waits on; publishes do not, since a sender waits for them.
/// </remarks>
internal sealed class RequestBatcher<T> : IAsyncDisposable
{
    public const int MaxEntries = 10;

    /// <summary>The payload SQS accepts in one batch request (256 KiB, the classic limit that every server keeps).</summary>
    public const int MaxBatchBytes = 256 * 1024;

    private readonly Func<IReadOnlyList<T>, CancellationToken, Task<IReadOnlyList<Exception?>>> send;
    private readonly Channel<(T Entry, TaskCompletionSource Done)> waiting =
        Channel.CreateUnbounded<(T, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeSpan linger;
    private readonly Func<T, int> size;
    private readonly Task loop;

    /// <param name="send">Sends one batch and returns, for each entry in order, null or why it failed.</param>
    /// <param name="linger">How long a batch that is not full waits for more entries.</param>
    /// <param name="size">The payload bytes of an entry, for <see cref="MaxBatchBytes"/>; none by default.</param>
    public RequestBatcher(
        Func<IReadOnlyList<T>, CancellationToken, Task<IReadOnlyList<Exception?>>> send, TimeSpan linger = default, Func<T, int>? size = null)
    {
        this.send = send;
        this.linger = linger;
        this.size = size ?? (_ => 0);
        loop = Task.Run(RunAsync);
    }

    public Task SendAsync(T entry, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!waiting.Writer.TryWrite((entry, done)))
        {
            throw new ObjectDisposedException(nameof(RequestBatcher<T>));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!waiting.Writer.TryComplete())
        {
            return;
        }

        await loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<(T Entry, TaskCompletionSource Done)>(MaxEntries);
        (T Entry, TaskCompletionSource Done)? carried = null;
        while (carried is not null || await waiting.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var bytes = 0;
            var deadline = linger > TimeSpan.Zero ? DateTime.UtcNow + linger : DateTime.MinValue;
            while (batch.Count < MaxEntries)
            {
                if (carried is { } held)
                {
                    carried = null;
                    batch.Add(held);
                    bytes += size(held.Entry);
                    continue;
                }

                if (waiting.Reader.TryRead(out var next))
                {
                    var length = size(next.Entry);
                    if (batch.Count > 0 && bytes + length > MaxBatchBytes)
                    {
                        // SQS refuses a whole batch above its payload limit, so this one starts the next batch.
                        carried = next;
                        break;
                    }

                    batch.Add(next);
                    bytes += length;
                    continue;
                }

                var left = deadline - DateTime.UtcNow;
                if (batch.Count == 0 || left <= TimeSpan.Zero)
                {
                    break;
                }

                var more = waiting.Reader.WaitToReadAsync().AsTask();
                if (await Task.WhenAny(more, Task.Delay(left)).ConfigureAwait(false) != more || !await more.ConfigureAwait(false))
                {
                    break;
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var outcomes = await send(batch.Select(b => b.Entry).ToList(), CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (outcomes[i] is { } error)
                    {
                        batch[i].Done.TrySetException(error);
                    }
                    else
                    {
                        batch[i].Done.TrySetResult();
                    }
                }
            }
            catch (Exception e)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(e);
                }
            }
        }
    }
}
