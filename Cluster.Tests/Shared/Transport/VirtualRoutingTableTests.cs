using ClusterQueue.Protocol;
using ClusterQueue.Transport;
using ClusterQueue.Transport.Routing;
using FsCheck;
using FsCheck.Fluent;
using static ClusterQueue.Tests.Transport.TransportTestKit;

namespace ClusterQueue.Tests.Transport;

public sealed class VirtualRoutingTableTests
{
    private static readonly Gen<string[]> KeyWords =
        Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Gen.Elements("a", "b", "c", ""), n));

    private static readonly Gen<string[]> PatternWords =
        Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Gen.Elements("a", "b", "c", "*", "#", ""), n));

    /// <summary>The plain reading of the AMQP rule, recursive and exponential, to check the table against.</summary>
    private static bool NaiveTopicMatch(ReadOnlySpan<string> pattern, ReadOnlySpan<string> key)
    {
        if (pattern.IsEmpty)
        {
            return key.IsEmpty;
        }

        if (pattern[0] == "#")
        {
            for (var skip = 0; skip <= key.Length; skip++)
            {
                if (NaiveTopicMatch(pattern[1..], key[skip..]))
                {
                    return true;
                }
            }

            return false;
        }

        return !key.IsEmpty && (pattern[0] == "*" || pattern[0] == key[0]) && NaiveTopicMatch(pattern[1..], key[1..]);
    }

    private static bool NaiveHeadersMatch(IReadOnlyDictionary<string, object?> binding, IReadOnlyDictionary<string, object?> headers)
    {
        var any = binding.TryGetValue("x-match", out var mode) && (string?)mode == "any";
        var checks = binding.Where(p => !p.Key.StartsWith("x-", StringComparison.Ordinal))
            .Select(p => headers.ContainsKey(p.Key) && (p.Value is null || Convert.ToInt64(p.Value) == Convert.ToInt64(headers[p.Key])))
            .ToList();
        return any ? checks.Contains(true) : !checks.Contains(false);
    }

    private static VirtualRoutingTable TableWith(ExchangeType type, params (string Queue, string Key, IReadOnlyDictionary<string, object?>? Arguments)[] bindings)
    {
        var table = new VirtualRoutingTable();
        table.DeclareExchange(new ExchangeDeclaration("x", type));
        foreach (var (queue, key, arguments) in bindings)
        {
            table.DeclareQueue(new QueueDeclaration(queue));
            table.Bind(new QueueBinding(queue, "x", key, arguments));
        }

        return table;
    }

    [Fact]
    public void Topic_routing_agrees_with_a_naive_recursive_matcher()
    {
        var cases = Gen.Zip(PatternWords, KeyWords).ToArbitrary();
        Check.QuickThrowOnFailure(Prop.ForAll(cases, ((string[] Pattern, string[] Key) c) =>
        {
            var pattern = string.Join('.', c.Pattern);
            var key = string.Join('.', c.Key);
            var table = TableWith(ExchangeType.Topic, ("q", pattern, null));
            var expected = NaiveTopicMatch(pattern.Split('.'), key.Split('.'));
            return (table.Route("x", key, Envelope.NoHeaders).Count == 1) == expected;
        }));
    }

    [Fact]
    public void Topic_patterns_follow_the_amqp_examples()
    {
        Assert.True(TopicPattern.Matches("*.orange.*", "quick.orange.rabbit"));
        Assert.False(TopicPattern.Matches("*.orange.*", "quick.orange.male.rabbit"));
        Assert.True(TopicPattern.Matches("lazy.#", "lazy"));
        Assert.True(TopicPattern.Matches("lazy.#", "lazy.orange.male.rabbit"));
        Assert.True(TopicPattern.Matches("#", "anything.at.all"));
        Assert.False(TopicPattern.Matches("*.*.rabbit", "orange.rabbit"));
        Assert.True(TopicPattern.Matches("#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.z", string.Join('.', Enumerable.Repeat("a", 60)) + ".z"));
    }

    [Fact]
    public void Headers_routing_agrees_with_a_reference_for_all_and_any()
    {
        var keys = new[] { "a", "b", "c", "x-extra" };
        var values = Gen.OneOf(Gen.Choose(0, 2).Select(i => (object?)i), Gen.Choose(0, 2).Select(i => (object?)(long)i), Gen.Constant<object?>(null));
        Gen<Dictionary<string, object?>> MapGen(Gen<object?> valueGen) =>
            Gen.SubListOf(keys).SelectMany(chosen => Gen.CollectToList(chosen, _ => valueGen)
                .Select(vs => chosen.Zip(vs).ToDictionary(p => p.First, p => p.Second)));
        var cases = Gen.Zip(Gen.Elements("all", "any", "none"), Gen.Zip(MapGen(values), MapGen(values.Where(v => v is not null)))).ToArbitrary();

        Check.QuickThrowOnFailure(Prop.ForAll(cases, ((string Mode, (Dictionary<string, object?> Binding, Dictionary<string, object?> Headers) Maps) c) =>
        {
            var binding = new Dictionary<string, object?>(c.Maps.Binding);
            if (c.Mode != "none")
            {
                binding["x-match"] = c.Mode;
            }

            var table = TableWith(ExchangeType.Headers, ("q", "", binding));
            return (table.Route("x", "", c.Maps.Headers).Count == 1) == NaiveHeadersMatch(binding, c.Maps.Headers);
        }));
    }

    [Fact]
    public void Direct_routes_on_exact_key_and_fanout_ignores_it()
    {
        var direct = TableWith(ExchangeType.Direct, ("a", "k", null), ("b", "other", null), ("c", "k", null));
        var fanout = TableWith(ExchangeType.Fanout, ("a", "k", null), ("b", "other", null));

        Assert.Equal(["a", "c"], direct.Route("x", "k", Envelope.NoHeaders));
        Assert.Empty(direct.Route("x", "K", Envelope.NoHeaders));
        Assert.Equal(["a", "b"], fanout.Route("x", "anything", Envelope.NoHeaders));
    }

    [Fact]
    public void A_queue_bound_twice_by_matching_bindings_gets_one_copy()
    {
        var table = TableWith(ExchangeType.Topic, ("q", "a.*", null), ("q", "#", null));

        Assert.Equal(["q"], table.Route("x", "a.b", Envelope.NoHeaders));
    }

    [Fact]
    public void Default_exchange_routes_to_the_queue_named_by_the_key_or_nowhere()
    {
        var table = new VirtualRoutingTable();
        table.DeclareQueue(new QueueDeclaration("celery"));

        Assert.Equal(["celery"], table.Route("", "celery", Envelope.NoHeaders));
        Assert.Empty(table.Route("", "absent", Envelope.NoHeaders));
    }

    [Fact]
    public void Deleting_a_queue_removes_its_bindings()
    {
        var table = TableWith(ExchangeType.Fanout, ("a", "", null), ("b", "", null));

        Assert.True(table.DeleteQueue("a"));
        Assert.Equal(["b"], table.Route("x", "", Envelope.NoHeaders));
        Assert.False(table.DeleteQueue("a"));
    }

    [Fact]
    public void Bad_topology_requests_name_what_was_wrong()
    {
        var table = new VirtualRoutingTable();
        table.DeclareExchange(new ExchangeDeclaration("h", ExchangeType.Headers));
        table.DeclareQueue(new QueueDeclaration("q", Arguments: Map(("x-max-priority", 10))));

        Assert.Throws<ExchangeNotFoundException>(() => table.Route("nope", "k", Envelope.NoHeaders));
        Assert.Throws<ExchangeNotFoundException>(() => table.Bind(new QueueBinding("q", "nope", "")));
        Assert.Contains("x-match", Assert.Throws<PreconditionFailedException>(() =>
            table.Bind(new QueueBinding("q", "h", "", Map(("x-match", "some"))))).Message, StringComparison.Ordinal);
        Assert.Contains("x-max-priority", Assert.Throws<PreconditionFailedException>(() =>
            table.DeclareQueue(new QueueDeclaration("p", Arguments: Map(("x-max-priority", 0))))).Message, StringComparison.Ordinal);
        Assert.Throws<PreconditionFailedException>(() =>
            table.DeclareQueue(new QueueDeclaration("q", Arguments: Map(("x-max-priority", 5)))));
        Assert.Throws<PreconditionFailedException>(() => table.DeclareExchange(new ExchangeDeclaration("", ExchangeType.Direct)));
        Assert.Throws<PreconditionFailedException>(() => table.Bind(new QueueBinding("q", "", "q")));
    }

    [Fact]
    public void Queue_arguments_cap_priorities_and_read_the_ttl()
    {
        var arguments = QueueArguments.Parse("q", Map(("x-max-priority", 5), ("x-message-ttl", 1000L)));

        Assert.Equal((byte)5, arguments.EffectivePriority(9));
        Assert.Equal((byte)3, arguments.EffectivePriority(3));
        Assert.Equal((byte)0, arguments.EffectivePriority(null));
        Assert.Equal((byte)0, QueueArguments.None.EffectivePriority(9));
        Assert.Equal(TimeSpan.FromSeconds(1), arguments.MessageTtl);
    }
}
