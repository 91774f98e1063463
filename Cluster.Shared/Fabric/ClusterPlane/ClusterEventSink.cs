using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>Publishes events to <see cref="ClusterTopics.Events"/> through the member's DistributedPubSub mediator.</summary>
/// <remarks>A publish is a tell: with no subscriber it is dropped at once, as a Celery event with no monitor listening is.</remarks>
public sealed class ClusterEventSink(ActorSystem system)
{
    private readonly IActorRef mediator = DistributedPubSub.Get(system).Mediator;

    public void Publish(string routingKey, ReadOnlyMemory<byte> body) =>
        mediator.Tell(new Publish(ClusterTopics.Events, new EventsPublished(routingKey, body.ToArray())));

    /// <summary>Subscribes <paramref name="subscriber"/> to the event topic; it receives <see cref="EventsPublished"/>, and a <see cref="SubscribeAck"/> first.</summary>
    public static void Subscribe(ActorSystem system, IActorRef subscriber) =>
        DistributedPubSub.Get(system).Mediator.Tell(new Subscribe(ClusterTopics.Events, subscriber), subscriber);
}
