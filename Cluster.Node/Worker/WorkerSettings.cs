namespace ClusterQueue.Node.Worker;

/// <summary>The <c>cluster-queue.node</c> settings: how a worker node names itself, what it consumes and how it runs tasks.</summary>
public sealed record WorkerSettings
{
    /// <summary>Node name; <c>%h</c> is the host name and <c>%n</c> the host name without its domain.</summary>
    public string Name { get; init; } = "celery@%h";

    /// <summary>Tasks run at once; 0 means one per CPU.</summary>
    public int Concurrency { get; init; }

    /// <summary>Unacked messages reserved per pool slot: prefetch = concurrency × multiplier.</summary>
    public int PrefetchMultiplier { get; init; } = 4;

    /// <summary><c>default</c> reserves up to the prefetch window; <c>fair</c> reserves only what an idle slot can start now.</summary>
    public string Optimization { get; init; } = "default";

    public bool AcksLate { get; init; }

    public bool RejectOnWorkerLost { get; init; }

    public List<string> Queues { get; init; } = ["celery"];

    /// <summary>Replace a pool slot after this many tasks; 0 means never.</summary>
    public int MaxTasksPerChild { get; init; }

    /// <summary>Replace a prefork child after the task that took its resident memory above this many KiB; 0 means never.</summary>
    public long MaxMemoryPerChild { get; init; }

    /// <summary>Watch the task assembly and load a new version of it when it changes (celery --autoreload).</summary>
    public bool Autoreload { get; init; }

    /// <summary>How often autoreload looks at the task assembly's size and write time.</summary>
    public TimeSpan AutoreloadInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The task assembly (<c>-A</c>) the node's tasks came from; prefork children load it, and autoreload watches it.
    /// Null for tasks registered in code, which only the threads pool can run.
    /// </summary>
    public string? App { get; init; }

    /// <summary>Grow and shrink the pool by load between min and max (celery --autoscale); <see cref="Concurrency"/> is then unused.</summary>
    public AutoscaleSettings Autoscale { get; init; } = new();

    /// <summary>SQLite file that keeps revoked task ids across restarts; empty keeps them in memory only.</summary>
    public string StateDb { get; init; } = "cluster-queue-state.db";

    public bool SendTaskEvents { get; init; }

    /// <summary>Hard limit per task; zero means none.</summary>
    public TimeSpan TaskTimeLimit { get; init; }

    /// <summary>Soft limit per task (the task's cancellation token fires); zero means none.</summary>
    public TimeSpan TaskSoftTimeLimit { get; init; }

    /// <summary>How long a warm shutdown waits for running tasks before it turns cold.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>ETA tasks due within this horizon are held in memory; later ones go back to the broker as delayed messages.</summary>
    public TimeSpan EtaHorizon { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>threads</c> runs tasks in this process; <c>prefork</c> in child processes, one per slot.</summary>
    public string Pool { get; init; } = "threads";

    public bool DisableRateLimits { get; init; }

    /// <summary>Events, remote control, revocation and mingle, from <c>cluster-queue.events</c>, <c>.control</c>, <c>.revocation</c> and <c>.mingle</c>.</summary>
    public ClusterQueue.Node.Fabric.NodeFabricSettings Fabric { get; init; } = new();

    /// <summary>The <c>akka</c> section the node's actor system runs with; Akka's reference config fills in the rest.</summary>
    public global::Akka.Configuration.Config AkkaConfig { get; init; } = ClusterQueue.Config.AkkaConfiguration.Reference;

    /// <summary>The name with <c>%h</c> and <c>%n</c> expanded, as <c>celery -n</c> does.</summary>
    public string ResolveName(string hostName)
    {
        var shortName = hostName.Split('.', 2)[0];
        return Name.Replace("%h", hostName, StringComparison.Ordinal).Replace("%n", shortName, StringComparison.Ordinal);
    }

    /// <summary>The pool size after resolving 0 to the CPU count.</summary>
    public int EffectiveConcurrency => Concurrency > 0 ? Concurrency : Environment.ProcessorCount;

    /// <summary>Throws with the setting's full key when a value cannot work.</summary>
    public void Validate()
    {
        if (Concurrency < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.concurrency", Concurrency, "cluster-queue.node.concurrency must be 0 (one per CPU) or more");
        }

        if (PrefetchMultiplier < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.prefetch-multiplier", PrefetchMultiplier, "cluster-queue.node.prefetch-multiplier must be 0 or more");
        }

        if (Optimization is not ("default" or "fair"))
        {
            throw new ArgumentException($"cluster-queue.node.optimization must be \"default\" or \"fair\", got \"{Optimization}\"", "cluster-queue.node.optimization");
        }

        if (Queues.Count == 0 || Queues.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("cluster-queue.node.queues must name at least one queue, and no empty names", "cluster-queue.node.queues");
        }

        if (Pool is not ("threads" or "prefork"))
        {
            throw new ArgumentException($"cluster-queue.node.pool must be \"threads\" or \"prefork\", got \"{Pool}\"", "cluster-queue.node.pool");
        }

        if (MaxTasksPerChild < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.max-tasks-per-child", MaxTasksPerChild, "cluster-queue.node.max-tasks-per-child must be 0 (never) or more");
        }

        if (MaxMemoryPerChild < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.max-memory-per-child", MaxMemoryPerChild, "cluster-queue.node.max-memory-per-child must be 0 (never) or more KiB");
        }

        if (Autoreload && AutoreloadInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.autoreload-interval", AutoreloadInterval, "cluster-queue.node.autoreload-interval must be more than 0");
        }

        Autoscale.Validate();
    }
}

/// <summary>The <c>cluster-queue.node.autoscale</c> settings (celery --autoscale=max,min); max 0 turns autoscaling off.</summary>
public sealed record AutoscaleSettings
{
    /// <summary>Fewest pool slots; the pool starts with this many, as Celery's does (at least one).</summary>
    public int Min { get; init; }

    /// <summary>Most pool slots; the prefetch window is sized from it, as Celery sizes it under autoscale.</summary>
    public int Max { get; init; }

    /// <summary>How long after the last growth by load the pool may shrink (Celery's AUTOSCALE_KEEPALIVE, 30 s).</summary>
    public TimeSpan Keepalive { get; init; } = TimeSpan.FromSeconds(30);

    public bool Enabled => Max > 0;

    /// <summary>The slots the pool starts with: Celery starts it at min, and a pool here keeps at least one.</summary>
    public int InitialSize => Math.Max(Min, 1);

    /// <summary>Throws with the setting's full key when the range or the keepalive cannot work.</summary>
    public void Validate()
    {
        if (Max < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.autoscale.max", Max, "cluster-queue.node.autoscale.max must be 0 (off) or more");
        }

        if (Min < 0)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.autoscale.min", Min, "cluster-queue.node.autoscale.min must be 0 or more");
        }

        if (Enabled && Min > Max)
        {
            throw new ArgumentException($"cluster-queue.node.autoscale.min ({Min}) must not be above cluster-queue.node.autoscale.max ({Max})", "cluster-queue.node.autoscale.min");
        }

        if (Keepalive <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException("cluster-queue.node.autoscale.keepalive", Keepalive, "cluster-queue.node.autoscale.keepalive must be more than 0");
        }
    }
}
