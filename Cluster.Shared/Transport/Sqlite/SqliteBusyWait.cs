using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace ClusterQueue.Transport.Sqlite;

/// <summary>Makes a connection wait for a locked file by retrying about every millisecond, for up to a minute.</summary>
/// <remarks>
/// SQLite's own busy timeout backs off to 100 ms sleeps, and Microsoft.Data.Sqlite's retry sleeps 150 ms, so a process that
/// writes back to back (a publisher in a loop) starves the others for seconds. A steady short retry lets every process in.
/// SQLitePCLRaw does not expose sqlite3_busy_handler, so it is bound here from the same native library.
/// </remarks>
internal static class SqliteBusyWait
{
    private const int MaxAttempts = 60_000;

    // Held in a static field so the garbage collector never frees the delegate native code calls into.
    private static readonly BusyCallback Callback = WaitForLock;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int BusyCallback(IntPtr state, int attempt);

    public static void Install(SqliteConnection connection)
    {
        var handle = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        var rc = sqlite3_busy_handler(handle.DangerousGetHandle(), Callback, IntPtr.Zero);
        if (rc != 0)
        {
            throw new TransportException($"sqlite: installing the busy handler failed with code {rc}");
        }
    }

    private static int WaitForLock(IntPtr state, int attempt)
    {
        if (attempt < 5)
        {
            Thread.Yield();
        }
        else
        {
            Thread.Sleep(1);
        }

        return attempt < MaxAttempts ? 1 : 0;
    }

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_busy_handler(IntPtr db, BusyCallback callback, IntPtr state);
}
