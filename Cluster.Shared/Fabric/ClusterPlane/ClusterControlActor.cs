using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using ClusterQueue.Fabric.Control;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// A node's mailbox on the cluster plane: subscribed to <see cref="ClusterTopics.Control"/>, it runs the commands meant
/// for this node with the same handlers as the pidbox, one at a time, and answers the sender (the caller's gatherer).
/// </summary>
/// <remarks>A malformed request is logged and dropped, as on the pidbox; nothing a request holds can stop the node.</remarks>
public sealed class ClusterControlActor : ReceiveActor
{
    private readonly ControlDispatcher dispatcher;
    private readonly LamportClock? appClock;
    private readonly ILogger logger;
    private readonly TaskCompletionSource subscribed;

    /// <remarks><c>subscribed</c> completes once the local mediator holds the subscription; other members learn it by gossip.</remarks>
    public ClusterControlActor(ControlDispatcher dispatcher, LamportClock? appClock, ILogger logger, TaskCompletionSource subscribed)
    {
        this.dispatcher = dispatcher;
        this.appClock = appClock;
        this.logger = logger;
        this.subscribed = subscribed;
        ReceiveAsync<ControlCommand>(HandleAsync);
        Receive<SubscribeAck>(_ => this.subscribed.TrySetResult());
    }

    /// <summary>The mailbox clock of this carrier; answers carry it, as pidbox replies carry theirs.</summary>
    public LamportClock MailboxClock { get; } = new();

    public static Props Props(ControlDispatcher dispatcher, LamportClock? appClock, ILogger logger, TaskCompletionSource subscribed) =>
        Akka.Actor.Props.Create(() => new ClusterControlActor(dispatcher, appClock, logger, subscribed));

    protected override void PreStart() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(ClusterTopics.Control, Self));

    private async Task HandleAsync(ControlCommand command)
    {
        var sender = Sender;
        ControlRequest request;
        bool selected;
        try
        {
            request = ControlCodec.DecodeRequest(new Protocol.Envelope { Body = command.Body, Headers = new Dictionary<string, object?> { ["clock"] = command.Clock } });
            selected = NodeSelector.Selects(request, dispatcher.NodeName);
        }
        catch (FabricMessageException e)
        {
            logger.LogWarning("{Node}: dropped a malformed control request from {Sender}: {Problem}", dispatcher.NodeName, sender.Path, e.Message);
            return;
        }

        appClock?.Forward();
        MailboxClock.Adjust(request.Clock);
        if (!selected) return;
        var response = await dispatcher.DispatchAsync(request, CancellationToken.None).ConfigureAwait(false);

        // The cluster carrier needs no ticket: the sender is the caller's gatherer for this one request.
        if (!response.SendsReply || sender.IsNobody()) return;
        var clock = MailboxClock.Forward();
        var reply = ControlCodec.EncodeReply(new ControlReply(dispatcher.NodeName, response.Value, null, clock));
        sender.Tell(new ControlAnswer(reply.Body.ToArray(), clock));
    }
}
