using ClusterQueue.Actors;

namespace ClusterQueue.Node.Worker;

/// <summary>Holds requests until their time: ETA and countdown within the horizon, and rate-limited starts.</summary>
internal sealed class TaskTimers : ReceiveActor
{
    private readonly Dictionary<TaskRequest, (Hold Hold, ICancelable Timer)> _held = [];
    private bool _released;

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
            var timer = Context.System.Scheduler.ScheduleTellOnce(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Self, new Due(hold.Request), Self);
            _held[hold.Request] = (hold, timer);
        });
        Receive<Due>(due =>
        {
            if (!_held.Remove(due.Request, out var entry))
            {
                return;
            }

            if (entry.Hold.EtaHeld)
            {
                _ = entry.Hold.Request.Lease.ReleaseEtaAsync();
                node.Due(entry.Hold.Request);
            }

            entry.Hold.Target.Tell(new Reserve(entry.Hold.Request), Self);
        });
        ReceiveAsync<ReleaseHeld>(async _ =>
        {
            _released = true;
            var entries = _held.Values.ToList();
            _held.Clear();
            foreach (var (_, timer) in entries)
            {
                timer.Cancel();
            }

            await Task.WhenAll(entries.Select(e => GiveBackAsync(node, e.Hold))).ConfigureAwait(false);
            Sender.Tell(new Drained(entries.Count, Task.CompletedTask), Self);
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
