using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Revocation;

namespace ClusterQueue.Tests.Fabric;

public sealed class RevocationTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("cq-revocation-").FullName;
    private readonly FabricClock clock = new(FabricFixtures.Epoch);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void LimitedSet_BeyondTheBound_EvictsTheOldestFirst()
    {
        var set = new LimitedSet(3, TimeSpan.FromHours(1));

        set.Add("a", 1);
        set.Add("b", 2);
        set.Add("c", 3);
        var dropped = set.Add("d", 4);

        Assert.Equal(["a"], dropped);
        Assert.Equal(["b", "c", "d"], set.Entries.Select(e => e.Id));
        Assert.False(set.Contains("a", 4));
    }

    [Fact]
    public void LimitedSet_ReAdding_RefreshesTheEntrySoItIsEvictedLast()
    {
        var set = new LimitedSet(2, TimeSpan.FromHours(1));
        set.Add("a", 1);
        set.Add("b", 2);

        set.Add("a", 3);
        var dropped = set.Add("c", 4);

        Assert.Equal(["b"], dropped);
        Assert.Equal(["a", "c"], set.Entries.Select(e => e.Id));
    }

    [Fact]
    public void LimitedSet_Expiry_ForgetsEntriesOlderThanExpires()
    {
        var set = new LimitedSet(10, TimeSpan.FromSeconds(10));
        set.Add("old", 100);
        set.Add("new", 105);

        Assert.True(set.Contains("old", 109.9));
        Assert.False(set.Contains("old", 110));
        Assert.Equal(["old"], set.Purge(110));
        Assert.Equal(["new"], set.Entries.Select(e => e.Id));
    }

    [Fact]
    public void LimitedSet_AnEntryOlderThanTheNewest_IsKeptInTimeOrder()
    {
        var set = new LimitedSet(10, TimeSpan.FromHours(1));
        set.Add("b", 20);
        set.Add("a", 10);
        set.Add("c", 30);

        Assert.Equal(["a", "b", "c"], set.Entries.Select(e => e.Id));
    }

    [Fact]
    public void RevokedTaskSet_ExpiresWithTheClock()
    {
        using var revoked = new RevokedTaskSet(new RevocationSettings { Expires = TimeSpan.FromHours(3) }, time: clock);
        revoked.Revoke(["t1"]);

        clock.Advance(TimeSpan.FromHours(3) - TimeSpan.FromSeconds(1));
        Assert.True(revoked.Contains("t1"));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(revoked.Contains("t1"));
        Assert.Empty(revoked.Snapshot());
    }

    [Fact]
    public void RevokedTaskSet_HoldsAtMostMaxIds()
    {
        using var revoked = new RevokedTaskSet(new RevocationSettings { MaxIds = 100 }, time: clock);

        for (var i = 0; i < 250; i++)
        {
            revoked.Revoke([$"t{i}"]);
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(100, revoked.Count);
        Assert.False(revoked.Contains("t149"));
        Assert.True(revoked.Contains("t150"));
        Assert.Equal("t150", revoked.Snapshot()[0]);
    }

    [Fact]
    public void Defaults_AreCeleryLimits()
    {
        var settings = new RevocationSettings();

        Assert.Equal(50_000, settings.MaxIds);
        Assert.Equal(TimeSpan.FromSeconds(10_800), settings.Expires);
    }

    [Fact]
    public void SqliteStore_RevokedIdsSurviveAReopen()
    {
        var path = Path.Combine(folder, "state.db");
        using (var revoked = new RevokedTaskSet(store: new SqliteRevocationStore(path), time: clock))
        {
            revoked.Revoke(["a", "b"]);
            clock.Advance(TimeSpan.FromSeconds(1));
            revoked.Revoke(["c"]);
        }

        using var reopened = new RevokedTaskSet(store: new SqliteRevocationStore(path), time: clock);

        Assert.Equal(["a", "b", "c"], reopened.Snapshot());
        Assert.True(reopened.Contains("c"));
    }

    [Fact]
    public void SqliteStore_OnReopen_ExpiredAndEvictedIdsAreGoneFromTheFileToo()
    {
        var path = Path.Combine(folder, "state.db");
        using (var revoked = new RevokedTaskSet(store: new SqliteRevocationStore(path), time: clock))
        {
            revoked.Revoke(["old"]);
            clock.Advance(TimeSpan.FromHours(2));
            revoked.Revoke(["x", "y", "z"]);
        }

        clock.Advance(TimeSpan.FromHours(1));
        using (var reopened = new RevokedTaskSet(new RevocationSettings { MaxIds = 2 }, new SqliteRevocationStore(path), clock))
        {
            Assert.Equal(["y", "z"], reopened.Snapshot());
        }

        using var store = new SqliteRevocationStore(path);
        Assert.Equal(["y", "z"], store.Load().Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SqliteStore_UnopenableFile_IsAnIOErrorNamingThePath()
    {
        var path = Path.Combine(folder, "missing-dir", "state.db");

        var error = Assert.Throws<IOException>(() => new SqliteRevocationStore(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToMingle_WritesEachIdAsFloatTimestampAndId()
    {
        using var revoked = new RevokedTaskSet(time: clock);
        revoked.Revoke(["a"]);

        var json = FabricTestKit.Text(FabricJson.Serialize(revoked.ToMingle()));
        var entry = JsonNode.Parse(json)!["a"]!.AsArray();

        Assert.Equal("a", (string)entry[1]!);
        Assert.Matches("^\\{\"a\": \\[-?[0-9]+\\.[0-9]+(e[-+][0-9]+)?, \"a\"\\]\\}$", json);
    }

    [Fact]
    public void ToMingle_WholeSecondTimestamp_StillHasAFraction()
    {
        var whole = new JsonObject { ["a"] = new JsonArray(JsonValue.Create(12.0), "a") };

        Assert.Equal("{\"a\": [12.0, \"a\"]}", FabricTestKit.Text(FabricJson.Serialize(whole)));
    }

    [Fact]
    public void MergeMingle_TakesThePeersIds()
    {
        var (_, reply) = FabricFixtures.Pair("worker-mingle-hello-with-reply.json", "hello");
        using var revoked = new RevokedTaskSet(time: clock);

        var added = revoked.MergeMingle(HelloReply.Parse(reply).Revoked);

        Assert.Equal(3, added);
        Assert.True(revoked.Contains("0824f6c1-297b-4526-8b8c-3a6b514ae977"));
        Assert.True(revoked.Contains("8c0b342c-ab0c-464f-8bb6-f46d091c67cf"));
    }

    [Theory]
    [InlineData("""{"a": [12, "a"]}""")]
    [InlineData("""{"a": "soon"}""")]
    [InlineData("""{"a": []}""")]
    public void MergeMingle_IntOrMissingTimestamp_IsRejectedNamingTheId(string revokedJson)
    {
        using var revoked = new RevokedTaskSet(time: clock);

        var error = Assert.Throws<FabricMessageException>(() => revoked.MergeMingle(JsonNode.Parse(revokedJson)!.AsObject()));

        Assert.Contains("['a']", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, revoked.Count);
    }

    [Fact]
    public void MergeMingle_BareFloat_IsAccepted_AsCeleryDoes()
    {
        using var revoked = new RevokedTaskSet(time: clock);

        Assert.Equal(1, revoked.MergeMingle(JsonNode.Parse("""{"a": 653.72}""")!.AsObject()));
    }

    [Fact]
    public async Task Hello_FromAPeer_MergesAndRepliesWithOurIdsAndTheForwardedAppClock()
    {
        using var revoked = new RevokedTaskSet(time: clock);
        revoked.Revoke(["mine"]);
        var appClock = new LamportClock(281);
        var handler = new HelloHandler("celery@vm", revoked, appClock);
        var arguments = new HelloArguments("celery@vm2", new JsonObject { ["theirs"] = new JsonArray(JsonValue.Create(5.5), "theirs") }).ToJson();

        var response = await handler.HandleAsync(new ControlRequest { Method = "hello", Arguments = arguments }, default);

        var reply = HelloReply.Parse(response.Value);
        Assert.Equal(282, reply.Clock);
        Assert.Equal(["mine", "theirs"], MingleRevoked.Parse(reply.Revoked).Order(StringComparer.Ordinal));
        Assert.True(revoked.Contains("theirs"));
    }

    [Fact]
    public async Task Hello_FromItself_RepliesNull()
    {
        using var revoked = new RevokedTaskSet(time: clock);
        var handler = new HelloHandler("celery@vm", revoked, new LamportClock());

        var response = await handler.HandleAsync(new ControlRequest { Method = "hello", Arguments = new HelloArguments("celery@vm", []).ToJson() }, default);

        Assert.True(response.SendsReply);
        Assert.Null(response.Value);
    }

    [Fact]
    public async Task Hello_WithoutFromNode_IsAnArgumentError()
    {
        var handler = new HelloHandler("celery@vm", new RevokedTaskSet(time: clock), new LamportClock());

        var error = await Assert.ThrowsAsync<ControlArgumentException>(() => handler.HandleAsync(new ControlRequest { Method = "hello" }, default).AsTask());

        Assert.Equal("from_node", error.Argument);
    }

    [Fact]
    public async Task MingleSync_NewNodeGetsThePeersRevokedIdsAndMovesItsClockPastTheirs()
    {
        await using var transport = FabricTestKit.MemoryTransport();
        using var peerRevoked = new RevokedTaskSet(time: clock);
        peerRevoked.Revoke(["r1", "r2"]);
        var peerClock = new LamportClock(500);
        await using var peer = new PidboxNode(transport, "celery@vm", FabricControlHandlers.CreateRegistry("celery@vm", peerRevoked, peerClock), appClock: peerClock);
        await peer.StartAsync();
        await using var client = new PidboxClient(transport);
        using var ownRevoked = new RevokedTaskSet(time: clock);
        ownRevoked.Revoke(["own"]);
        var ownClock = new LamportClock();

        // A generous timeout: with no destination the gather always runs to it, and the peer must answer within it.
        var peers = await MingleSync.SyncAsync(client, "celery@vm2", ownRevoked, ownClock, new MingleSettings { Timeout = TimeSpan.FromSeconds(5) });

        Assert.Equal(1, peers);
        Assert.True(ownRevoked.Contains("r1"));
        Assert.True(ownRevoked.Contains("r2"));
        Assert.True(peerRevoked.Contains("own"));
        Assert.True(ownClock.Value > 500);
    }

    [Fact]
    public async Task MingleSync_Alone_FindsNoPeers()
    {
        await using var transport = FabricTestKit.MemoryTransport();
        await using var client = new PidboxClient(transport);
        using var revoked = new RevokedTaskSet(time: clock);

        var peers = await MingleSync.SyncAsync(client, "celery@vm", revoked, new LamportClock(), new MingleSettings { Timeout = TimeSpan.FromMilliseconds(100) });

        Assert.Equal(0, peers);
    }
}
