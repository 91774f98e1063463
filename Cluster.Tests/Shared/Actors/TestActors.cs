using ClusterQueue.Actors;

namespace ClusterQueue.Tests.Actors;

/// <summary>Replies to every message with the same message.</summary>
internal sealed class EchoActor : ReceiveActor
{
    public EchoActor() => ReceiveAny(message => Sender.Tell(message, Self));
}

/// <summary>Reports its lifecycle hooks to a probe and throws on demand.</summary>
internal sealed class LifecycleActor : ReceiveActor
{
    private readonly IActorRef _reporter;
    private readonly string _id;
    private int _handled;

    public LifecycleActor(IActorRef reporter, string id)
    {
        _reporter = reporter;
        _id = id;
        Receive<Exception>(ex => throw ex);
        Receive<string>(s => s == "count", _ => Sender.Tell(_handled, Self));
        ReceiveAny(message =>
        {
            _handled++;
            Sender.Tell(message, Self);
        });
    }

    protected internal override void PreStart() => _reporter.Tell($"{_id}:PreStart");

    protected internal override void PostStop() => _reporter.Tell($"{_id}:PostStop");

    protected internal override void PreRestart(Exception reason, object? message)
    {
        _reporter.Tell($"{_id}:PreRestart:{reason.Message}:{message is Exception}");
        base.PreRestart(reason, message);
    }

    protected internal override void PostRestart(Exception reason)
    {
        _reporter.Tell($"{_id}:PostRestart:{reason.Message}");
        base.PostRestart(reason);
    }
}

internal sealed record ChildSpec(Props Props, string Name);

/// <summary>A supervisor that spawns named children on request and answers with their references.</summary>
internal sealed class SupervisorActor : ReceiveActor
{
    public SupervisorActor()
    {
        Receive<ChildSpec>(spec => Sender.Tell(Context.ActorOf(spec.Props, spec.Name), Self));
        Receive<string>(s => s == "children", _ => Sender.Tell(Context.Children.Count, Self));
    }
}
