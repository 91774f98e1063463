using ClusterQueue.Fabric;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Fabric.Revocation;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Fabric;

/// <summary>Generated inputs: LimitedSet against a plain model, and control requests and events surviving encode then decode.</summary>
public sealed class FabricPropertyTests
{
    private static readonly string[] Words = ["", "a", "celery@vm", "héllo", "it's", "say \"hi\"", "line\nbreak", "\\", "😀", "日本"];

    [Fact]
    public void LimitedSet_AfterAnyAdds_HoldsTheNewestDistinctIdsWithinTheBound()
    {
        var adds = Gen.ListOf(Gen.Choose(0, 20)).Select(ids => ids.ToArray());
        Check.QuickThrowOnFailure(Prop.ForAll(Gen.Choose(1, 8).ToArbitrary(), adds.ToArbitrary(), (bound, ids) =>
        {
            var set = new LimitedSet(bound, TimeSpan.FromHours(1));
            for (var i = 0; i < ids.Length; i++) set.Add($"t{ids[i]}", i);

            // Model: each id's last add counts; the newest `bound` of them stay, oldest first.
            var expected = ids.Select((id, i) => (Id: $"t{id}", At: i))
                .GroupBy(e => e.Id).Select(g => g.Last())
                .OrderBy(e => e.At).TakeLast(bound).Select(e => e.Id);
            return set.Entries.Select(e => e.Id).SequenceEqual(expected) && set.Count <= bound;
        }));
    }

    [Fact]
    public void ControlRequest_EncodeThenDecode_GivesTheSameRequest()
    {
        var text = Gen.Elements(Words);
        var requests =
            from method in Gen.Elements("ping", "revoke", "hello", "x_y")
            from destination in Gen.Frequency((1, Gen.Constant<string[]?>(null)), (2, Gen.ArrayOf(text).Select(a => (string[]?)a)))
            from pattern in Gen.Elements<string?>(null, "celery@*", "a.b")
            from matcher in Gen.Elements<string?>(null, "glob", "pcre")
            from reply in Gen.Elements(true, false)
            from clock in Gen.Choose(0, int.MaxValue)
            from argument in text
            select new ControlRequest
            {
                Method = method,
                Arguments = new() { ["value"] = argument },
                Destination = destination,
                Pattern = pattern,
                Matcher = matcher,
                Ticket = reply ? Guid.NewGuid().ToString() : null,
                ReplyTo = reply ? new ReplyAddress("reply.celery.pidbox", argument) : null,
                Clock = clock,
                Expires = clock / 7.0,
            };
        Check.QuickThrowOnFailure(Prop.ForAll(requests.ToArbitrary(), request =>
        {
            var decoded = ControlCodec.DecodeRequest(ControlCodec.EncodeRequest(request));
            return decoded.Method == request.Method
                && decoded.Arguments.ToJsonString() == request.Arguments.ToJsonString()
                && (decoded.Destination ?? []).SequenceEqual(request.Destination ?? [])
                && (decoded.Destination is null) == (request.Destination is null)
                && decoded.Pattern == request.Pattern
                && decoded.Matcher == request.Matcher
                && decoded.Ticket == request.Ticket
                && decoded.ReplyTo == request.ReplyTo
                && decoded.Clock == request.Clock
                && decoded.Expires == request.Expires;
        }));
    }

    [Fact]
    public void TaskEvents_EncodeThenDecode_GivesTheSameEvent()
    {
        var text = Gen.Elements(Words);
        var events = Gen.OneOf(
            text.Select(u => (ClusterEvent)new TaskStartedEvent(u)),
            from u in text from r in text from runtime in Gen.Choose(0, 100000) select (ClusterEvent)new TaskSucceededEvent(u, r, runtime / 1000.0),
            from u in text from e in text from tb in Gen.Elements<string?>(null, "Traceback") select (ClusterEvent)new TaskFailedEvent(u, e, tb),
            from u in text from t in Gen.Elements(true, false) from s in Gen.Elements<int?>(null, 9, 15) select (ClusterEvent)new TaskRevokedEvent(u, t, s, !t),
            from u in text from n in text from a in text select (ClusterEvent)new TaskReceivedEvent(u, n, a, "{}", u, null, 2, "2026-11-21T09:35:45.586688+00:00", null));
        var stamped =
            from evt in events
            from host in text
            from offset in Gen.Choose(-14, 12)
            from clock in Gen.Choose(0, int.MaxValue)
            from micros in Gen.Choose(0, 999_999)
            select evt with { Hostname = host, Utcoffset = offset, Pid = 42, Clock = clock, Timestamp = 1795253738 + micros / 1e6 };
        Check.QuickThrowOnFailure(Prop.ForAll(stamped.ToArbitrary(), evt =>
        {
            var decoded = EventCodec.DecodeBody(EventCodec.EncodeBatch([evt], evt.Hostname).Body);
            return decoded.Count == 1 && decoded[0] == evt;
        }));
    }
}
