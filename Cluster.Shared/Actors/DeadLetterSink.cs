using Microsoft.Extensions.Logging;

namespace ClusterQueue.Actors;

/// <summary>Where undeliverable messages end: logged, counted and published as <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterSink(ActorSystem system) : IInternalActorRef
{
    private long _count;

    public ActorPath Path { get; } = system.RootPath / "deadLetters";

    public ActorSystem System { get; } = system;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Told directly (as a reply to a sender-less message), the recipient is this sink itself.</summary>
    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is DeadLetter letter)
        {
            Publish(letter.Message, letter.Sender, letter.Recipient);
        }
        else
        {
            Publish(message, sender, this);
        }
    }

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
        }
    }

    public void Publish(object message, IActorRef? sender, IActorRef recipient)
    {
        Interlocked.Increment(ref _count);
        System.KernelLog.LogInformation("Dead letter: {MessageType} from {Sender} to {Recipient} was not delivered", message.GetType().Name, sender?.Path, recipient.Path);

        // A dead letter about a dead letter means a subscriber is gone; republishing it would loop forever.
        if (message is not DeadLetter)
        {
            System.EventStream.Publish(new DeadLetter(message, sender, recipient));
        }
    }

    public override string ToString() => Path.ToString();
}
