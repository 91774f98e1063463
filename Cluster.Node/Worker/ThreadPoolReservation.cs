namespace ClusterQueue.Node.Worker;

/// <summary>
/// Keeps one .NET thread-pool thread per pool slot on top of the pool's own minimum. Task methods run on the thread
/// pool, as Akka's actors do; a method that blocks holds its thread, and without a reservation the pool would add
/// threads for the actors only slowly (about two a second), so a node whose slots all block would stall its
/// consumers, its pool actor and Akka itself for seconds. With the minimum raised by the slot count, the pool starts
/// a thread at once whenever work waits, and the threads the actors need are always there.
/// </summary>
/// <remarks>
/// Dedicated threads per slot were measured too: waking one per task cost a quarter to a third of the throughput of
/// short tasks on every broker (README, worker drain), for the same protection.
/// </remarks>
internal static class ThreadPoolReservation
{
    private static readonly Lock Gate = new();
    private static int _baseMinimum = -1;
    private static int _reserved;

    public static void Reserve(int threads) => Change(threads);

    public static void Release(int threads) => Change(-threads);

    private static void Change(int delta)
    {
        lock (Gate)
        {
            ThreadPool.GetMinThreads(out var workers, out var completionPorts);
            if (_baseMinimum < 0)
            {
                _baseMinimum = workers;
            }

            _reserved = Math.Max(0, _reserved + delta);
            ThreadPool.SetMinThreads(_baseMinimum + _reserved, completionPorts);
        }
    }
}
