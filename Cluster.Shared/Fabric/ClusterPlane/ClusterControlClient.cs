using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using AkkaConfig = Akka.Configuration.Config;
using Akka.Event;
using ClusterQueue.Fabric.Control;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.ClusterPlane;

/// <summary>
/// The cluster carrier of remote control: one publish to <see cref="ClusterTopics.Control"/> reaches every worker's
/// control actor, and a gatherer actor made for the call collects the answers until the timeout or the limit.
/// </summary>
/// <remarks>
/// A cluster member publishes through its own DistributedPubSub mediator (<see cref="ForMember"/>). A process outside the
/// cluster, such as the CLI, is no member: it reaches the seeds' receptionists with Akka's ClusterClient
/// (<see cref="ConnectAsync"/>), so a short-lived command never joins, leaves or counts in the split-brain resolver.
/// </remarks>
public sealed class ClusterControlClient : IControlCarrier
{
    private readonly ActorSystem system;
    private readonly IActorRef publisher;
    private readonly Func<ControlCommand, object> wrap;
    private readonly ControlSettings settings;
    private readonly bool ownsSystem;
    private readonly IActorRef? client;

    private ClusterControlClient(ActorSystem system, IActorRef publisher, Func<ControlCommand, object> wrap, ControlSettings settings, bool ownsSystem, IActorRef? client)
    {
        this.system = system;
        this.publisher = publisher;
        this.wrap = wrap;
        this.settings = settings;
        this.ownsSystem = ownsSystem;
        this.client = client;
    }

    /// <inheritdoc />
    public string Carrier => "cluster";

    /// <summary>The mailbox clock: forwarded for each request, adjusted by each answer.</summary>
    public LamportClock MailboxClock { get; } = new();

    /// <summary>A client inside a cluster member, publishing through the member's mediator.</summary>
    public static ClusterControlClient ForMember(ActorSystem system, ControlSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        var mediator = DistributedPubSub.Get(system).Mediator;
        return new ClusterControlClient(system, mediator, command => new Publish(ClusterTopics.Control, command), settings ?? new ControlSettings(), ownsSystem: false, client: null);
    }

    /// <summary>
    /// Starts a small remoting-only actor system and a ClusterClient on the seeds' receptionists, once one of them
    /// answers within <paramref name="connectTimeout"/>.
    /// </summary>
    /// <remarks><c>akka</c>: the <c>akka</c> section the process runs with; its provider is set to remote here.</remarks>
    /// <exception cref="ClusterUnreachableException">No seed is configured, or none answered in time.</exception>
    public static async Task<ClusterControlClient> ConnectAsync(
        ClusterSettings cluster,
        ControlSettings control,
        AkkaConfig akka,
        TimeSpan connectTimeout,
        ILoggerFactory? logging = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(control);
        if (cluster.Seeds.Count == 0)
        {
            throw new ClusterUnreachableException("no seed nodes are configured (cluster-queue.cluster.seeds or --seed)");
        }

        var receptionists = cluster.Seeds.Select(seed => new RootActorPath(ClusterSettings.SeedAddress(seed)) / "system" / "receptionist").ToList();
        // A command's output is its replies: Akka says only what went wrong.
        var config = ConfigurationFactory.ParseString("akka.actor.provider = remote\nakka.extensions = []\nakka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
            .WithFallback((cluster with { Seeds = [] }).ToAkkaConfig([]))
            .WithFallback(akka);
        var setup = BootstrapSetup.Create().WithConfig(config).And(new Akka.Hosting.Logging.LoggerFactorySetup(logging ?? NullLoggerFactory.Instance));
        var system = ActorSystem.Create(ClusterSettings.SystemName + "-client", setup);
        try
        {
            if (!await AnyAnswersAsync(system, receptionists, connectTimeout, cancellationToken).ConfigureAwait(false))
            {
                throw new ClusterUnreachableException($"no seed answered within {connectTimeout.TotalSeconds:0.#} s: {string.Join(", ", cluster.Seeds)}");
            }

            var settings = ClusterClientSettings.Create(system).WithInitialContacts([.. receptionists]);
            var client = system.ActorOf(ClusterClient.Props(settings), "control-client");
            return new ClusterControlClient(system, client, command => new ClusterClient.Publish(ClusterTopics.Control, command), control, ownsSystem: true, client);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ControlReply>> BroadcastAsync(
        string method,
        JsonObject? arguments = null,
        ControlTarget? target = null,
        bool reply = true,
        TimeSpan? timeout = null,
        int? limit = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        if (limit is <= 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the reply limit must be positive");
        target ??= ControlTarget.All;
        if (target.Pattern is not null && target.Matcher is not null) NodeSelector.Matches("", target.Pattern, target.Matcher);
        var wait = timeout ?? settings.ReplyTimeout;
        if (wait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the reply timeout must not be negative");
        var request = new ControlRequest
        {
            Method = method,
            Arguments = arguments ?? [],
            Destination = target.Destination,
            Pattern = target.Pattern,
            Matcher = target.Matcher,
            Clock = MailboxClock.Forward(),
        };
        var command = new ControlCommand(ControlCodec.EncodeRequest(request).Body.ToArray(), request.Clock);
        if (!reply)
        {
            publisher.Tell(wrap(command), ActorRefs.NoSender);
            return [];
        }

        var expected = limit ?? (target.Destination is { Count: > 0 } destination ? destination.Count : null);
        var gathered = new TaskCompletionSource<IReadOnlyList<ControlReply>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gatherer = system.ActorOf(Props.Create(() => new ReplyGatherer(gathered, expected, wait, MailboxClock)));
        await using (cancellationToken.Register(() => gatherer.Tell(PoisonPill.Instance)))
        {
            publisher.Tell(wrap(command), gatherer);
            var replies = await gathered.Task.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return replies;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (client is not null) await client.GracefulStop(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (ownsSystem) await system.Terminate().ConfigureAwait(false);
    }

    private static async Task<bool> AnyAnswersAsync(ActorSystem system, IReadOnlyList<ActorPath> receptionists, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Identify is answered by every actor: a receptionist that answers proves a member is up at that address.
        var probes = receptionists.Select(async path =>
        {
            try
            {
                var identity = await system.ActorSelection(path).Ask<ActorIdentity>(new Identify(null), timeout, cancellationToken).ConfigureAwait(false);
                return identity.Subject is not null;
            }
            catch (AskTimeoutException)
            {
                return false;
            }
        }).ToList();
        while (probes.Count > 0)
        {
            var done = await Task.WhenAny(probes).ConfigureAwait(false);
            if (await done.ConfigureAwait(false)) return true;
            probes.Remove(done);
        }

        return false;
    }

    /// <summary>Collects the answers to one request, then stops; the timeout ends a gather normally.</summary>
    private sealed class ReplyGatherer : ReceiveActor, IWithTimers
    {
        private readonly List<ControlReply> replies = [];
        private readonly TaskCompletionSource<IReadOnlyList<ControlReply>> gathered;
        private readonly TimeSpan timeout;

        public ReplyGatherer(TaskCompletionSource<IReadOnlyList<ControlReply>> gathered, int? limit, TimeSpan timeout, LamportClock clock)
        {
            this.gathered = gathered;
            Receive<ControlAnswer>(answer =>
            {
                ControlReply reply;
                try
                {
                    reply = ControlCodec.DecodeReply(new Protocol.Envelope { Body = answer.Body });
                }
                catch (FabricMessageException e)
                {
                    Context.GetLogger().Warning("dropped a malformed control answer from {0}: {1}", Sender.Path, e.Message);
                    return;
                }

                clock.Adjust(answer.Clock);
                replies.Add(reply with { Clock = answer.Clock });
                if (replies.Count >= limit) Context.Stop(Self);
            });
            Receive<GatherTimeout>(_ => Context.Stop(Self));
            this.timeout = timeout;
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartSingleTimer(GatherTimeout.Instance, GatherTimeout.Instance, timeout);

        protected override void PostStop() => gathered.TrySetResult(replies);

        private sealed class GatherTimeout
        {
            public static readonly GatherTimeout Instance = new();
        }
    }
}

/// <summary>The cluster carrier cannot be used: no seed configured, or none answered.</summary>
public sealed class ClusterUnreachableException(string message) : Exception(message);
