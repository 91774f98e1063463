using System.Text.Json.Nodes;
using ClusterQueue.Protocol;

namespace ClusterQueue.Canvas;

/// <summary>
/// Celery's canvas primitives, built as the signatures Celery serializes: <c>signature</c>, <c>chain</c>, <c>group</c>
/// and <c>chord</c>. Apply one with <see cref="Client.ClusterQueueApp.ApplyAsync(Signature, CancellationToken)"/>.
/// </summary>
public static class Workflow
{
    public const string GroupTask = "celery.group";

    public const string ChainTask = "celery.chain";

    public const string ChordTask = "celery.chord";

    /// <summary>Celery's <c>add.s(2, 2)</c>: a task by name with positional arguments (JSON values; numbers and strings convert).</summary>
    public static Signature Task(string name, params JsonNode?[] args) => Task(name, new JsonArray(args), null);

    /// <summary>Celery's <c>signature(name, args, kwargs)</c>.</summary>
    public static Signature Task(string name, JsonArray? args, JsonObject? kwargs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Signature { Task = name, Args = args ?? [], Kwargs = kwargs ?? [] };
    }

    /// <summary>Celery's <c>chain(a, b, c)</c>: each step gets the previous step's result as its first argument. Nested chains are flattened.</summary>
    public static Signature Chain(params IEnumerable<Signature> steps)
    {
        var flat = steps.SelectMany(step => step.SubtaskType == "chain" ? MembersOf(step, "chain") : [step]).ToList();
        if (flat.Count == 0)
        {
            throw new ArgumentException("a chain needs at least one step", nameof(steps));
        }

        return Primitive(ChainTask, "chain", new JsonObject { ["tasks"] = List(flat) });
    }

    /// <summary>Celery's <c>group(a, b, c)</c>: the members run in parallel; its result lists theirs in order.</summary>
    public static Signature Group(params IEnumerable<Signature> members) =>
        Primitive(GroupTask, "group", new JsonObject { ["tasks"] = List(members) });

    /// <summary>Celery's <c>chord(header, body)</c>: <paramref name="body"/> gets the list of the header's results once all have succeeded.</summary>
    public static Signature Chord(IEnumerable<Signature> header, Signature body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var group = Group(header);
        return Primitive(ChordTask, "chord", new JsonObject { ["header"] = group.ToJson(), ["body"] = body.ToJson(), ["kwargs"] = new JsonObject() });
    }

    /// <summary>The steps of a chain or the members of a group, from <c>kwargs.tasks</c>.</summary>
    /// <exception cref="MessageDecodeException">They are missing or not signatures; <paramref name="path"/> names the signature.</exception>
    public static IReadOnlyList<Signature> MembersOf(Signature primitive, string path)
    {
        ArgumentNullException.ThrowIfNull(primitive);
        if (primitive.Kwargs["tasks"] is not JsonArray tasks)
        {
            throw new MessageDecodeException($"{path}.kwargs.tasks", $"must be a list of signatures for a {primitive.SubtaskType}");
        }

        return tasks.Select((task, i) => Signature.FromJson(task, $"{path}.kwargs.tasks[{i}]")).ToList();
    }

    /// <summary>A chord's header (a group, or a bare list as older clients send) and body.</summary>
    /// <exception cref="MessageDecodeException">Either is missing or malformed; <paramref name="path"/> names the chord.</exception>
    public static (Signature Header, Signature Body) PartsOf(Signature chord, string path)
    {
        ArgumentNullException.ThrowIfNull(chord);
        var header = chord.Kwargs["header"] switch
        {
            JsonArray list => Group(list.Select((task, i) => Signature.FromJson(task, $"{path}.kwargs.header[{i}]"))),
            JsonObject group => Signature.FromJson(group, $"{path}.kwargs.header"),
            _ => throw new MessageDecodeException($"{path}.kwargs.header", "must be a group or a list of signatures"),
        };
        if (header.SubtaskType != "group")
        {
            // Celery wraps a lone signature as a group of one.
            header = Group(header);
        }

        return (header, Signature.FromJson(chord.Kwargs["body"], $"{path}.kwargs.body"));
    }

    private static Signature Primitive(string task, string type, JsonObject kwargs) =>
        new() { Task = task, Kwargs = kwargs, SubtaskType = type };

    private static JsonArray List(IEnumerable<Signature> signatures) => new([.. signatures.Select(s => (JsonNode)s.ToJson())]);
}
