using System.Diagnostics;

namespace ClusterQueue.Actors;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the instance and its state; drop the failing message.</summary>
    Resume,

    /// <summary>Replace the instance with a fresh one from Props; the mailbox is kept.</summary>
    Restart,

    /// <summary>Stop the child for good.</summary>
    Stop,

    /// <summary>Fail the supervisor itself with the same exception.</summary>
    Escalate,
}

/// <summary>How a parent handles its children's failures: a decider plus a restart limit in a time window.</summary>
public abstract class SupervisorStrategy
{
    protected SupervisorStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
    {
        ArgumentNullException.ThrowIfNull(decider);
        if (maxNrOfRetries < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxNrOfRetries), maxNrOfRetries, "Use -1 for no limit, or a count of 0 or more.");
        }

        if (withinTimeRange < TimeSpan.Zero && withinTimeRange != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(withinTimeRange), withinTimeRange, "Use a positive window, or Timeout.InfiniteTimeSpan for none.");
        }

        MaxNrOfRetries = maxNrOfRetries;
        WithinTimeRange = withinTimeRange;
        Decider = decider;
    }

    /// <summary>
    /// Restarts a child whose handler threw, without limit. A child that cannot even start
    /// (constructor or PreStart threw) or broke a death pact is stopped, as in Akka, so a broken
    /// constructor cannot spin in a restart loop.
    /// </summary>
    public static SupervisorStrategy DefaultStrategy { get; } = new OneForOneStrategy(DefaultDecider);

    /// <summary>Restarts of one child allowed within <see cref="WithinTimeRange"/>; -1 means no limit.</summary>
    public int MaxNrOfRetries { get; }

    /// <summary>The sliding window restarts are counted in; <see cref="Timeout.InfiniteTimeSpan"/> counts forever.</summary>
    public TimeSpan WithinTimeRange { get; }

    public Func<Exception, Directive> Decider { get; }

    public static Directive DefaultDecider(Exception cause) => cause switch
    {
        ActorInitializationException or DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>Applies a directive other than Escalate to the failed child (and, for all-for-one, its siblings).</summary>
    internal abstract void Apply(Directive directive, ActorCell failedChild, Exception cause, IReadOnlyCollection<ActorCell> children);

    internal bool RequestRestartPermission(ChildRestartStats stats) => stats.RequestRestartPermission(MaxNrOfRetries, WithinTimeRange);
}

/// <summary>Applies the directive to the failed child only.</summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    public OneForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
        : base(maxNrOfRetries, withinTimeRange, decider)
    {
    }

    public OneForOneStrategy(Func<Exception, Directive> decider)
        : base(-1, Timeout.InfiniteTimeSpan, decider)
    {
    }

    internal override void Apply(Directive directive, ActorCell failedChild, Exception cause, IReadOnlyCollection<ActorCell> children)
    {
        switch (directive)
        {
            case Directive.Resume:
                failedChild.SendSystemMessage(Actors.Resume.Instance);
                break;
            case Directive.Restart:
                failedChild.SendSystemMessage(new Recreate(cause));
                break;
            default:
                failedChild.SendSystemMessage(Actors.Stop.Instance);
                break;
        }
    }
}

/// <summary>Applies Restart and Stop to every child of the supervisor, Resume to the failed one only.</summary>
public sealed class AllForOneStrategy : SupervisorStrategy
{
    public AllForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
        : base(maxNrOfRetries, withinTimeRange, decider)
    {
    }

    public AllForOneStrategy(Func<Exception, Directive> decider)
        : base(-1, Timeout.InfiniteTimeSpan, decider)
    {
    }

    internal override void Apply(Directive directive, ActorCell failedChild, Exception cause, IReadOnlyCollection<ActorCell> children)
    {
        if (directive == Directive.Resume)
        {
            failedChild.SendSystemMessage(Actors.Resume.Instance);
            return;
        }

        foreach (var child in children)
        {
            child.SendSystemMessage(directive == Directive.Restart ? new Recreate(cause) : Actors.Stop.Instance);
        }
    }
}

/// <summary>Restart count of one child inside the current window (Akka's ChildRestartStats).</summary>
internal sealed class ChildRestartStats
{
    private int _restartsInWindow;
    private long _windowStart;

    public int TotalRestarts { get; private set; }

    public bool RequestRestartPermission(int maxNrOfRetries, TimeSpan window) =>
        RequestRestartPermission(maxNrOfRetries, window, Stopwatch.GetTimestamp());

    /// <summary>Same as above at a given <see cref="Stopwatch"/> timestamp, so the window can be tested without waiting.</summary>
    public bool RequestRestartPermission(int maxNrOfRetries, TimeSpan window, long now)
    {
        if (maxNrOfRetries == 0)
        {
            return false;
        }

        if (maxNrOfRetries < 0)
        {
            TotalRestarts++;
            return true;
        }

        if (window != Timeout.InfiniteTimeSpan && (_restartsInWindow == 0 || Stopwatch.GetElapsedTime(_windowStart, now) > window))
        {
            _windowStart = now;
            _restartsInWindow = 0;
        }

        _restartsInWindow++;
        if (_restartsInWindow > maxNrOfRetries)
        {
            return false;
        }

        TotalRestarts++;
        return true;
    }
}
