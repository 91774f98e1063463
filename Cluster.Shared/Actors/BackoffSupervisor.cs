using Microsoft.Extensions.Logging;

namespace ClusterQueue.Actors;

/// <summary>Restarts a failing child after exponentially growing delays, and forwards every other message to it.</summary>
public static class BackoffSupervisor
{
    public static Props Props(BackoffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Actors.Props.Create(() => new BackoffOnFailureSupervisor(options));
    }

    /// <summary>
    /// min × 2^restartCount, capped at max, then stretched by up to <paramref name="randomFactor"/>
    /// (<paramref name="random01"/> is a uniform sample in [0, 1)); Akka's formula.
    /// </summary>
    public static TimeSpan CalculateDelay(int restartCount, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor, double random01)
    {
        var exponent = Math.Min(restartCount, 62);
        var capped = Math.Min(maxBackoff.Ticks, minBackoff.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)(capped * (1.0 + (random01 * randomFactor))));
    }

    /// <summary>Ask the supervisor for its child; the reply is <see cref="CurrentChild"/>.</summary>
    public sealed class GetCurrentChild
    {
        public static readonly GetCurrentChild Instance = new();
    }

    /// <summary>The child now running, or null while the supervisor is backing off.</summary>
    public sealed record CurrentChild(IActorRef? Ref);

    /// <summary>Ask the supervisor how many restarts it has counted; the reply is <see cref="RestartCount"/>.</summary>
    public sealed class GetRestartCount
    {
        public static readonly GetRestartCount Instance = new();
    }

    /// <summary>Restarts since the last reset.</summary>
    public sealed record RestartCount(int Count);

    /// <summary>Published on the event stream each time a failed child is scheduled to start again.</summary>
    public sealed record RestartScheduled(ActorPath Supervisor, int RestartCount, TimeSpan Delay);

    /// <summary>Published on the event stream when a stable child resets the backoff to its minimum.</summary>
    public sealed record BackoffReset(ActorPath Supervisor);
}

internal sealed class BackoffOnFailureSupervisor : ReceiveActor
{
    private readonly BackoffOptions _options;
    private IActorRef? _child;
    private int _restartCount;
    private bool _childFailed;
    private ICancelable? _timer;

    public BackoffOnFailureSupervisor(BackoffOptions options)
    {
        _options = options;
        Receive<Terminated>(t => t.ActorRef.Equals(_child), _ => OnChildTerminated());
        Receive<StartChild>(_ => StartChildNow());
        Receive<ResetRestartCount>(reset => reset.RestartCount == _restartCount, _ => ResetBackoff());
        Receive<ResetRestartCount>(_ => { });
        Receive<BackoffSupervisor.GetCurrentChild>(_ => Sender.Tell(new BackoffSupervisor.CurrentChild(_child), Self));
        Receive<BackoffSupervisor.GetRestartCount>(_ => Sender.Tell(new BackoffSupervisor.RestartCount(_restartCount), Self));
        ReceiveAny(Forward);
    }

    protected internal override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ =>
    {
        // The child is stopped rather than restarted in place, so the restart can wait out the backoff.
        _childFailed = true;
        return Directive.Stop;
    });

    protected internal override void PreStart() => StartChildNow();

    protected internal override void PostStop() => _timer?.Cancel();

    private void StartChildNow()
    {
        _child = Context.Watch(Context.ActorOf(_options.ChildProps, _options.ChildName));
        if (_restartCount > 0)
        {
            _timer = Context.System.Scheduler.ScheduleTellOnce(_options.ResetBackoff, Self, new ResetRestartCount(_restartCount), Self);
        }
    }

    private void OnChildTerminated()
    {
        _child = null;
        _timer?.Cancel();
        if (!_childFailed)
        {
            // A child that stops on purpose ends the supervision, as Akka's on-failure backoff does.
            Context.Stop(Self);
            return;
        }

        _childFailed = false;
        if (_options.MaxNrOfRetries >= 0 && _restartCount >= _options.MaxNrOfRetries)
        {
            Log.LogError("Child {Child} of {Supervisor} failed after {Count} restarts; giving up", _options.ChildName, Self.Path, _restartCount);
            Context.Stop(Self);
            return;
        }

        var delay = BackoffSupervisor.CalculateDelay(_restartCount, _options.MinBackoff, _options.MaxBackoff, _options.RandomFactor, Random.Shared.NextDouble());
        _restartCount++;
        Log.LogWarning("Child {Child} of {Supervisor} failed; restart {Count} in {Delay}", _options.ChildName, Self.Path, _restartCount, delay);
        Context.System.EventStream.Publish(new BackoffSupervisor.RestartScheduled(Self.Path, _restartCount, delay));
        _timer = Context.System.Scheduler.ScheduleTellOnce(delay, Self, StartChild.Instance, Self);
    }

    private void ResetBackoff()
    {
        _restartCount = 0;
        Context.System.EventStream.Publish(new BackoffSupervisor.BackoffReset(Self.Path));
    }

    private void Forward(object message)
    {
        if (_child is not null)
        {
            _child.Tell(message, Sender);
        }
        else
        {
            Context.System.DeadLetters.Tell(new DeadLetter(message, Sender, Self), Sender);
        }
    }

    private sealed class StartChild
    {
        public static readonly StartChild Instance = new();
    }

    private sealed record ResetRestartCount(int RestartCount);
}
