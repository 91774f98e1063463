using System.Collections.Concurrent;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Tests.Node.Fabric;

/// <summary>What travels on the cluster plane alone: serialization, replicated revocations, events, and reaching the cluster from outside.</summary>
public sealed class ClusterPlaneTests : IAsyncLifetime
{
    private readonly ClusterKit _kit = ClusterKit.Create(ClusterBroker.Memory);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    /// <summary>A type that is no cluster message; a sender without the allow-list can still put its name on the wire.</summary>
    public sealed record Intruder(string Payload);

    [Fact]
    public void Every_cluster_message_type_is_on_the_allow_list()
    {
        var messages = typeof(IClusterMessage).Assembly.GetTypes().Where(t => t is { IsInterface: false, IsAbstract: false } && typeof(IClusterMessage).IsAssignableFrom(t));

        Assert.Equal(messages.OrderBy(t => t.FullName), ClusterSerialization.AllowedTypes.OrderBy(t => t.FullName));
    }

    [Fact]
    public async Task Cluster_messages_round_trip_through_the_allow_listed_serializer()
    {
        var system = ActorSystem.Create("roundtrip", ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.extensions = []\nakka.loggers = [\"Akka.Event.DefaultLogger\"]").WithFallback(AkkaConfiguration.Reference));
        try
        {
            var message = new ControlAnswer([1, 2, 3], 42);
            var serializer = system.Serialization.FindSerializerFor(message);

            var back = (ControlAnswer)serializer.FromBinary(serializer.ToBinary(message), typeof(ControlAnswer));

            Assert.IsType<ClusterSerialization>(serializer);
            Assert.Equal([1, 2, 3], back.Body);
            Assert.Equal(42, back.Clock);
            var command = (ControlCommand)serializer.FromBinary(serializer.ToBinary(new ControlCommand([4, 5], 7)), typeof(ControlCommand));
            Assert.Equal([4, 5], command.Body);
            Assert.Equal(7, command.Clock);
            var events = (EventsPublished)serializer.FromBinary(serializer.ToBinary(new EventsPublished("task.multi", [6])), typeof(EventsPublished));
            Assert.Equal("task.multi", events.RoutingKey);
            Assert.Equal([6], events.Body);
            var intruder = system.Serialization.FindSerializerForType(typeof(ControlAnswer));
            var refused = Assert.ThrowsAny<Exception>(() => intruder.ToBinary(new Intruder("x")));
            Assert.Contains("Unsafe Type", refused.Message);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_message_naming_a_type_outside_the_allow_list_is_refused_and_the_node_keeps_running()
    {
        var logs = new CapturingLoggerProvider();
        using var logging = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning));
        var node = await _kit.StartAsync(_kit.Settings("target@test"), logging: logging);
        var address = Akka.Cluster.Cluster.Get(node.ActorSystem).SelfAddress;

        // A sender with plain Hyperion and no allow-list, as an intruder on the network would have.
        var intruder = ActorSystem.Create(ClusterSettings.SystemName, ConfigurationFactory.ParseString($$"""
            akka.loggers = ["Akka.Event.DefaultLogger"]
            akka.stdout-loglevel = OFF
            akka.loglevel = OFF
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.actor.serializers.hyperion = "Akka.Serialization.HyperionSerializer, Akka.Serialization.Hyperion"
            akka.actor.serialization-bindings { "{{typeof(Intruder).FullName}}, {{typeof(Intruder).Assembly.GetName().Name}}" = hyperion }
            """));
        try
        {
            intruder.ActorSelection(new RootActorPath(address) / "user" / "control").Tell(new Intruder("rm -rf"));

            await ClusterKit.EventuallyAsync(() => logs.Lines.Any(l => l.Contains("Deserialization failed", StringComparison.Ordinal) && l.Contains(nameof(Intruder), StringComparison.Ordinal)), "the node to log the refused message");
            await using var client = ClusterKit.ClusterClient(node);
            var pong = await client.PingAsync(limit: 1);
            Assert.Equal(["target@test"], pong.Select(r => r.Node));
            Assert.False(node.Completion.IsCompleted);
        }
        finally
        {
            await intruder.Terminate();
        }
    }

    [Fact]
    public async Task A_revoke_made_while_a_node_was_stopped_reaches_it_when_it_rejoins_and_it_discards_the_task()
    {
        await _kit.StartAsync("a@test");
        var cSettings = _kit.Settings("c@test") with { Queues = ["c-only"] };
        var c = await _kit.StartAsync(cSettings);
        await c.WarmShutdownAsync();
        var id = Uuid.NewId();

        var replies = await _kit.RevokeAsync(id, expectedReplies: 1);

        Assert.Equal(["a@test"], replies.Select(r => r.Node));
        var app = _kit.App();
        var again = await _kit.StartAsync(cSettings, app);
        Assert.True(again.Revoked.Contains(id), "the revoke reached the rejoined node before its first task");
        var discarded = ClusterKit.WhenAsync(again, id, TaskEventKind.Revoked);
        await app.ApplyAsync("tasks.add", [1, 2], options: new SendOptions { TaskId = id, Queue = "c-only" });
        await discarded;
        var result = await app.Results.WaitAsync(id, ClusterKit.Patience);
        Assert.Equal(TaskStates.Revoked, result.Status);
    }

    [Fact]
    public async Task A_lone_node_keeps_its_revocations_across_a_restart()
    {
        var settings = _kit.Settings("lone@test");
        var first = await _kit.StartAsync(settings);
        var id = Uuid.NewId();
        await _kit.RevokeAsync(id, expectedReplies: 1);
        await first.WarmShutdownAsync();

        // No other member is up: what it knows comes from its own durable copy in the state db.
        var second = await _kit.StartAsync(settings);

        Assert.True(second.Revoked.Contains(id));
        Assert.Single(second.Members);
    }

    [Fact]
    public async Task Task_events_travel_on_the_cluster_topic()
    {
        var node = await _kit.StartAsync(_kit.Settings("events@test") with { SendTaskEvents = true });
        var events = Channel.CreateUnbounded<EventsPublished>();
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = node.ActorSystem.ActorOf(Props.Create(() => new EventSubscriber(events.Writer, subscribed)));
        ClusterEventSink.Subscribe(node.ActorSystem, subscriber);
        await subscribed.Task.WaitAsync(ClusterKit.Patience);
        var id = Uuid.NewId();

        await _kit.App().ApplyAsync("tasks.add", [2, 3], options: new SendOptions { TaskId = id });

        using var limit = new CancellationTokenSource(ClusterKit.Patience);
        while (true)
        {
            var published = await events.Reader.ReadAsync(limit.Token);
            var decoded = ClusterQueue.Fabric.Events.EventCodec.DecodeBody(published.Body);
            if (decoded.OfType<ClusterQueue.Fabric.Events.TaskSucceededEvent>().Any(e => e.Uuid == id))
            {
                Assert.Equal("task.multi", published.RoutingKey);
                break;
            }
        }
    }

    [Fact]
    public async Task A_process_outside_the_cluster_reaches_it_through_a_seed()
    {
        var node = await _kit.StartAsync("reached@test");
        var seed = Akka.Cluster.Cluster.Get(node.ActorSystem).SelfAddress.ToString();

        await using var client = await ClusterControlClient.ConnectAsync(new ClusterSettings { Seeds = [seed] }, new ControlSettings { ReplyTimeout = ClusterKit.Patience }, AkkaConfiguration.Reference, ClusterKit.Patience);
        var replies = await client.BroadcastAsync("members", limit: 1);

        var member = Assert.Single(ClusterMembers.FromJson(Assert.Single(replies).Value));
        Assert.Equal(("reached@test", "Up", seed), (member.Node, member.Status, member.Address));
    }

    [Fact]
    public async Task No_seed_that_answers_is_a_clear_error()
    {
        var settings = new ClusterSettings { Seeds = ["akka.tcp://cluster-queue@127.0.0.1:9"] };

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(() =>
            ClusterControlClient.ConnectAsync(settings, new ControlSettings(), AkkaConfiguration.Reference, TimeSpan.FromMilliseconds(500)));

        Assert.Contains("akka.tcp://cluster-queue@127.0.0.1:9", error.Message);
    }

    [Fact]
    public async Task With_TLS_members_join_each_other_and_a_member_without_it_cannot()
    {
        var pfx = Path.Combine(_kit.Directory, "node.pfx");
        using (var key = System.Security.Cryptography.RSA.Create(2048))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "secret"));
        }

        // A self-signed certificate is trusted by nobody, so validation is suppressed here; a real deployment's authority is trusted.
        var tls = $$"""
            akka.remote.dot-netty.tcp.enable-ssl = true
            akka.remote.dot-netty.tcp.ssl { suppress-validation = true, certificate { path = "{{pfx}}", password = "secret" } }
            """;
        var first = Member(tls, seed: null);
        var seed = Akka.Cluster.Cluster.Get(first).SelfAddress.ToString();
        var second = Member(tls, seed);
        var plain = Member("", seed);
        try
        {
            await ClusterMembers.JoinAsync(first, new ClusterSettings(), CancellationToken.None);
            await ClusterMembers.JoinAsync(second, new ClusterSettings { Seeds = [seed] }, CancellationToken.None);
            await ClusterKit.EventuallyAsync(() => ClusterMembers.Snapshot(first).Count(m => m.IsUp) == 2, "the TLS member to be Up");

            var refused = await Assert.ThrowsAsync<ClusterJoinException>(() =>
                ClusterMembers.JoinAsync(plain, new ClusterSettings { Seeds = [seed], JoinTimeout = TimeSpan.FromSeconds(5) }, CancellationToken.None));

            Assert.Contains(seed, refused.Message);
            Assert.Equal(2, ClusterMembers.Snapshot(first).Count);
        }
        finally
        {
            await Task.WhenAll(plain.Terminate(), second.Terminate(), first.Terminate());
        }
    }

    private static ActorSystem Member(string extra, string? seed) =>
        ActorSystem.Create(ClusterSettings.SystemName, ConfigurationFactory.ParseString(extra + "\nakka.loglevel = OFF\nakka.stdout-loglevel = OFF\nakka.loggers = [\"Akka.Event.DefaultLogger\"]\nakka.cluster.distributed-data.durable.keys = []")
            .WithFallback(new ClusterSettings { Seeds = seed is null ? [] : [seed] }.ToAkkaConfig(["worker"]))
            .WithFallback(AkkaConfiguration.Reference));

    [Theory]
    [InlineData("cluster-queue@host:4053")]
    [InlineData("akka.tcp://other-system@10.0.0.5:4053")]
    [InlineData("akka.tcp://cluster-queue@10.0.0.5")]
    public void A_seed_that_is_not_a_cluster_address_names_the_setting(string seed)
    {
        var error = Assert.Throws<ArgumentException>(() => new ClusterSettings { Seeds = [seed] }.Validate());

        Assert.Equal("cluster-queue.cluster.seeds", error.ParamName);
        Assert.Contains(seed, error.Message);
        Assert.Contains("akka.tcp://cluster-queue@", error.Message);
    }

    private sealed class EventSubscriber : ReceiveActor
    {
        public EventSubscriber(ChannelWriter<EventsPublished> events, TaskCompletionSource subscribed)
        {
            Receive<SubscribeAck>(_ => subscribed.TrySetResult());
            Receive<EventsPublished>(e => events.TryWrite(e));
        }
    }
}
