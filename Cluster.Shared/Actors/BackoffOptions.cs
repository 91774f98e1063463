namespace ClusterQueue.Actors;

/// <summary>Settings of a <see cref="BackoffSupervisor"/>: the child, the backoff range, jitter and reset, as in Akka.</summary>
public sealed record BackoffOptions
{
    private BackoffOptions(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor)
    {
        ChildProps = childProps;
        ChildName = childName;
        MinBackoff = minBackoff;
        MaxBackoff = maxBackoff;
        RandomFactor = randomFactor;
        ResetBackoff = minBackoff;
    }

    public Props ChildProps { get; }

    public string ChildName { get; }

    public TimeSpan MinBackoff { get; }

    public TimeSpan MaxBackoff { get; }

    /// <summary>Each delay is stretched by a random share up to this factor, so restarting siblings do not stampede.</summary>
    public double RandomFactor { get; }

    /// <summary>A child that has run this long without failing starts again from <see cref="MinBackoff"/>.</summary>
    public TimeSpan ResetBackoff { get; private init; }

    /// <summary>Restarts allowed before the supervisor gives up and stops; -1 means no limit.</summary>
    public int MaxNrOfRetries { get; private init; } = -1;

    /// <summary>Restarts the child with exponential backoff whenever it fails (a handler throws).</summary>
    public static BackoffOptions CreateOnFailure(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor)
    {
        ArgumentNullException.ThrowIfNull(childProps);
        ArgumentException.ThrowIfNullOrEmpty(childName);
        if (minBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minBackoff), minBackoff, "minBackoff must be positive.");
        }

        if (maxBackoff < minBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBackoff), maxBackoff, $"maxBackoff must be at least minBackoff ({minBackoff}).");
        }

        if (!(randomFactor is >= 0.0 and <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(randomFactor), randomFactor, "randomFactor must be between 0 and 1.");
        }

        return new BackoffOptions(childProps, childName, minBackoff, maxBackoff, randomFactor);
    }

    public BackoffOptions WithAutoReset(TimeSpan resetBackoff)
    {
        if (resetBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(resetBackoff), resetBackoff, "resetBackoff must be positive.");
        }

        return this with { ResetBackoff = resetBackoff };
    }

    public BackoffOptions WithMaxNrOfRetries(int maxNrOfRetries)
    {
        if (maxNrOfRetries < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxNrOfRetries), maxNrOfRetries, "Use -1 for no limit, or a count of 0 or more.");
        }

        return this with { MaxNrOfRetries = maxNrOfRetries };
    }
}
