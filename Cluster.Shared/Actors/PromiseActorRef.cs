namespace ClusterQueue.Actors;

/// <summary>A one-shot reference that completes an Ask with the first message it is told.</summary>
internal sealed class PromiseActorRef : IActorRef
{
    private static long s_counter;
    private readonly TaskCompletionSource<object> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PromiseActorRef(ActorPath path) => Path = path;

    public ActorPath Path { get; }

    public void Tell(object message, IActorRef? sender) => _reply.TrySetResult(message);

    public static async Task<T> AskAsync<T>(IActorRef receiver, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var system = (receiver as IInternalActorRef)?.System;
        var tempPath = (system?.RootPath ?? ActorPath.Root("")) / "temp" / ("ask-" + Interlocked.Increment(ref s_counter));
        var promise = new PromiseActorRef(tempPath);
        receiver.Tell(message, promise);
        object reply;
        try
        {
            reply = await promise._reply.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new AskTimeoutException(receiver.Path, timeout, message.GetType());
        }

        return reply switch
        {
            Status.Failure failure => throw failure.Cause,
            T typed => typed,
            _ => throw new InvalidCastException($"Ask to {receiver.Path} expected a {typeof(T).Name} reply but got {reply.GetType().Name}."),
        };
    }
}
