namespace ClusterQueue.Client;

/// <summary>
/// A component a user adds to a worker, as a Celery bootstep: started with the worker after the pool and before the
/// consumers, and stopped during the warm shutdown once the consumers have stopped and the running tasks finished.
/// </summary>
/// <remarks>
/// A worker finds the public non-abstract classes that implement this, with a public parameterless constructor, in
/// its <c>--app</c> assembly; a host adds steps with <c>WorkerBuilder.AddStep</c>. Steps start in the order of
/// <see cref="Requires"/> and stop in the reverse order. A step that throws from <see cref="StartAsync"/> stops the
/// worker; the steps started before it are stopped.
/// </remarks>
public interface IWorkerStep
{
    /// <summary>The name other steps require and the banner lists; unique in a worker.</summary>
    string Name { get; }

    /// <summary>
    /// Names of the steps that must have started before this one: other user steps, or built-in parts that start
    /// before user steps (<c>cluster</c>, <c>revocations</c>, <c>events</c>, <c>mingle</c>, <c>state</c>,
    /// <c>timers</c>, <c>pool</c>, <c>autoreload</c>).
    /// </summary>
    IReadOnlyList<string> Requires { get; }

    /// <summary>Prepares what the step provides; the worker consumes no task before every step has returned.</summary>
    Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="StartAsync"/> took; the token fires when the worker will not wait longer.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
