using Akka.Actor;

namespace ClusterQueue.Node.Worker;

/// <summary>Holds requests until their time: ETA and countdown within the horizon, and rate-limited starts.</summary>
internal sealed class TaskTimers : ReceiveActor, IWithTimers
{
    // Keyed by request: a timer per held request, cancelled together when the node gives them all back.
    private readonly Dictionary<TaskRequest, Hold> _held = [];
    private bool _released;

    public ITimerScheduler Timers { get; set; } = null!;

    public TaskTimers(NodeServices node)
    {
        Receive<Hold>(hold =>
        {
            if (_released)
            {
                _ = GiveBackAsync(node, hold);
                return;
            }

            var delay = hold.Due - node.Time.GetUtcNow();
            Timers.StartSingleTimer(hold.Request, new Due(hold.Request), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
            _held[hold.Request] = hold;
        });
        Receive<Due>(due =>
        {
            if (!_held.Remove(due.Request, out var hold))
            {
                return;
            }

            if (hold.EtaHeld)
            {
                _ = hold.Request.Lease.ReleaseEtaAsync();
                node.Due(hold.Request);
            }

            hold.Target.Tell(new Reserve(hold.Request), Self);
        });
        ReceiveAsync<ReleaseHeld>(async _ =>
        {
            _released = true;
            var entries = _held.Values.ToList();
            _held.Clear();
            Timers.CancelAll();
            var sender = Sender;
            await Task.WhenAll(entries.Select(hold => GiveBackAsync(node, hold)));
            sender.Tell(new Drained(entries.Count, Task.CompletedTask), Self);
        });
    }

    /// <summary>Returns a held request to the broker, which hands it out again at shutdown or to another node.</summary>
    private static async Task GiveBackAsync(NodeServices node, Hold hold)
    {
        if (hold.EtaHeld)
        {
            await hold.Request.Lease.ReleaseEtaAsync().ConfigureAwait(false);
        }

        await hold.Request.RequeueAsync().ConfigureAwait(false);
        node.Unreserved(hold.Request);
    }

    private sealed record Due(TaskRequest Request);
}
