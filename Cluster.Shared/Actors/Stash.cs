namespace ClusterQueue.Actors;

/// <summary>Marks an actor that can set messages aside; the kernel fills <see cref="Stash"/> before PreStart.</summary>
public interface IWithStash
{
    IStash Stash { get; set; }
}

/// <summary>Messages set aside by an actor until it is ready for them.</summary>
public interface IStash
{
    /// <summary>Sets the message being handled aside.</summary>
    void Stash();

    /// <summary>Puts every stashed message back at the front of the mailbox, oldest first.</summary>
    void UnstashAll();

    int Count { get; }
}

internal sealed class MailboxStash(ActorCell cell) : IStash
{
    private readonly List<MessageEnvelope> _stashed = [];

    public int Count => _stashed.Count;

    public void Stash()
    {
        var current = cell.CurrentEnvelope
            ?? throw new InvalidOperationException($"Stash() on {cell.Path} is only valid while handling a message.");
        _stashed.Add(current);
    }

    public void UnstashAll()
    {
        cell.Prepend(_stashed);
        _stashed.Clear();
    }

    internal List<MessageEnvelope> TakeAll()
    {
        var all = new List<MessageEnvelope>(_stashed);
        _stashed.Clear();
        return all;
    }
}
