using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>A serialized Celery signature (<c>add.s(4)</c>) as carried in a task's embed: callbacks, errbacks, chain, chord.</summary>
/// <remarks>Fields this model does not know are kept in <see cref="Extra"/>, in order, and written back, so a signature survives a round trip.</remarks>
public sealed record Signature
{
    public required string Task { get; init; }

    public JsonArray Args { get; init; } = [];

    public JsonObject Kwargs { get; init; } = [];

    /// <summary>apply_async options such as <c>task_id</c>, <c>reply_to</c>, <c>queue</c>, <c>priority</c>.</summary>
    public JsonObject Options { get; init; } = [];

    /// <summary>null for a plain task; <c>chain</c>, <c>group</c> or <c>chord</c> for a canvas primitive.</summary>
    public string? SubtaskType { get; init; }

    /// <summary>When false the parent's result is prepended to <see cref="Args"/>.</summary>
    public bool Immutable { get; init; }

    /// <summary>Unknown fields, passed through unchanged.</summary>
    public JsonObject Extra { get; init; } = [];

    /// <summary>Celery's <c>sig | other</c>: a chain of this signature then <paramref name="right"/>.</summary>
    public static Signature operator |(Signature left, Signature right) => Canvas.Workflow.Chain(left, right);

    /// <summary>Celery's <c>link</c>: <paramref name="callback"/> is applied with this task's result when it succeeds.</summary>
    public Signature Link(Signature callback) => WithListOption("link", callback);

    /// <summary>Celery's <c>link_error</c>: <paramref name="errback"/> is applied with this task's id when it fails.</summary>
    public Signature OnError(Signature errback) => WithListOption("link_error", errback);

    /// <summary>Celery's <c>si</c>: the parent's result is not prepended to <see cref="Args"/>.</summary>
    public Signature AsImmutable() => this with { Immutable = true };

    /// <summary>Celery's <c>set(**options)</c>: an apply_async option (<c>queue</c>, <c>countdown</c>, <c>priority</c>, ...).</summary>
    public Signature WithOption(string name, JsonNode? value)
    {
        var options = (JsonObject)Options.DeepClone();
        options[name] = value?.DeepClone();
        return this with { Options = options };
    }

    /// <summary>The signature as Celery serializes it: <c>{"task", "args", "kwargs", "options", "subtask_type", "immutable", ...}</c>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["task"] = Task,
            ["args"] = Args.DeepClone(),
            ["kwargs"] = Kwargs.DeepClone(),
            ["options"] = Options.DeepClone(),
            ["subtask_type"] = SubtaskType,
            ["immutable"] = Immutable,
        };
        foreach (var (name, value) in Extra)
        {
            json[name] = value?.DeepClone();
        }

        return json;
    }

    /// <summary>Reads a serialized signature; <paramref name="path"/> names it in the error.</summary>
    /// <exception cref="MessageDecodeException">It is not a signature; the message names the field at fault.</exception>
    public static Signature FromJson(JsonNode? node, string path) => TaskBodyReader.ReadSignature(node, path);

    private Signature WithListOption(string name, Signature added)
    {
        var list = Options[name] is JsonArray existing ? (JsonArray)existing.DeepClone() : [];
        list.Add(added.ToJson());
        return WithOption(name, list);
    }

    public bool Equals(Signature? other) =>
        other is not null
        && Task == other.Task
        && SubtaskType == other.SubtaskType
        && Immutable == other.Immutable
        && JsonNode.DeepEquals(Args, other.Args)
        && JsonNode.DeepEquals(Kwargs, other.Kwargs)
        && JsonNode.DeepEquals(Options, other.Options)
        && JsonNode.DeepEquals(Extra, other.Extra);

    public override int GetHashCode() => HashCode.Combine(Task, SubtaskType, Immutable);
}

/// <summary>The third body element: the workflow that follows a task.</summary>
public sealed record TaskEmbed
{
    /// <summary>No callbacks, errbacks, chain or chord: <c>{"callbacks": null, ...}</c>.</summary>
    public static readonly TaskEmbed None = new();

    /// <summary>Signatures applied with the result on success (<c>link</c>).</summary>
    public IReadOnlyList<Signature>? Callbacks { get; init; }

    /// <summary>Signatures applied on failure (<c>link_error</c>).</summary>
    public IReadOnlyList<Signature>? Errbacks { get; init; }

    /// <summary>Remaining chain in reverse order: the worker pops the last one. Empty (not null) on a chain's last task.</summary>
    public IReadOnlyList<Signature>? Chain { get; init; }

    /// <summary>The chord body this task is a header member of.</summary>
    public Signature? Chord { get; init; }

    /// <summary>Unknown embed fields, passed through unchanged.</summary>
    public JsonObject Extra { get; init; } = [];

    public bool Equals(TaskEmbed? other) =>
        other is not null
        && SameList(Callbacks, other.Callbacks)
        && SameList(Errbacks, other.Errbacks)
        && SameList(Chain, other.Chain)
        && Equals(Chord, other.Chord)
        && JsonNode.DeepEquals(Extra, other.Extra);

    public override int GetHashCode() => HashCode.Combine(Callbacks?.Count, Errbacks?.Count, Chain?.Count, Chord);

    private static bool SameList(IReadOnlyList<Signature>? a, IReadOnlyList<Signature>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);
}
