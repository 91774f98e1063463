using System.Collections.Concurrent;

namespace ClusterQueue.Transport.Virtual;

/// <summary>One wake-up signal per queue name, so a publish wakes same-process consumers without waiting for a poll.</summary>
internal sealed class QueueSignals
{
    private readonly ConcurrentDictionary<string, Signal> signals = new(StringComparer.Ordinal);

    /// <summary>A task that completes at the next <see cref="Pulse"/> of the queue. Take it before looking at the store, so no pulse falls between.</summary>
    public Task Watch(string queue) => signals.GetOrAdd(queue, _ => new Signal()).Watch();

    public void Pulse(string queue)
    {
        if (signals.TryGetValue(queue, out var signal))
        {
            signal.Pulse();
        }
    }

    /// <summary>A reusable edge: waiters get the current task; a pulse completes it and installs a fresh one.</summary>
    internal sealed class Signal
    {
        private TaskCompletionSource current = New();

        public Task Watch() => Volatile.Read(ref current).Task;

        public void Pulse() => Interlocked.Exchange(ref current, New()).TrySetResult();

        // Continuations run on the pool, not inside the publisher's call.
        private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
