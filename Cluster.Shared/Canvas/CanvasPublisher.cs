using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Protocol;

namespace ClusterQueue.Canvas;

/// <summary>Where an applied signature comes from: the task that applies it, when a worker does.</summary>
/// <param name="ParentId">The finished task that applies it (its parent_id).</param>
/// <param name="RootId">The workflow's first task (its root_id).</param>
/// <param name="Priority">The parent's priority, which applies unless the signature sets its own.</param>
/// <param name="ReplyTo">The parent's reply queue, so that rpc:// results of a whole workflow reach the client that sent it.</param>
public sealed record Lineage(string? ParentId = null, string? RootId = null, byte? Priority = null, string? ReplyTo = null)
{
    public static Lineage None { get; } = new();
}

/// <summary>
/// Applies Celery signatures (task, chain, group, chord) as Celery's canvas does, on the client and on the worker:
/// the same messages, headers and embed, so Python workers and clients take part in our workflows and we in theirs.
/// </summary>
/// <remarks>
/// A workflow is frozen first, every task given its id, so its result handles exist before anything is sent.
/// A chord joins in the result store where it can count (<see cref="Results.IResultBackend.CountsChordParts"/>): the
/// member that finishes last applies the body, with no polling task. Elsewhere it sends Celery's <c>celery.chord_unlock</c>.
/// </remarks>
public sealed class CanvasPublisher
{
    public const string ChordUnlockTask = "celery.chord_unlock";

    // Celery's result_chord_retry_interval: chord_unlock first looks a second after the chord is sent.
    private static readonly TimeSpan UnlockCountdown = TimeSpan.FromSeconds(1);

    // Group options that are the group's own, not its members'.
    private static readonly HashSet<string> GroupOnlyOptions = new(StringComparer.Ordinal) { "task_id", "group_id", "group_index", "chord", "chain", "link", "link_error" };

    private readonly ClusterQueueApp app;

    internal CanvasPublisher(ClusterQueueApp app) => this.app = app;

    /// <summary>Celery's <c>freeze</c>: the signature with an id for every task, group and chord body that has none.</summary>
    public static Signature Freeze(Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        switch (signature.SubtaskType)
        {
            case "chain":
                return WithTasks(signature, Workflow.MembersOf(signature, signature.Task).Select(Freeze));
            case "group":
                return WithId(WithTasks(signature, Workflow.MembersOf(signature, signature.Task).Select(Freeze)));
            case "chord":
                var (header, body) = Workflow.PartsOf(signature, signature.Task);
                var bodyId = IdOf(body) ?? IdOf(signature);
                var frozenBody = Freeze(bodyId is null || body.SubtaskType is not null ? body : body.WithOption("task_id", bodyId));
                var kwargs = (JsonObject)signature.Kwargs.DeepClone();
                kwargs["header"] = Freeze(header).ToJson();
                kwargs["body"] = frozenBody.ToJson();
                return signature with { Kwargs = kwargs };
            default:
                return WithId(signature);
        }
    }

    /// <summary>The signature whose result a workflow ends in: a task or a group, past a chain's last step and a chord's body.</summary>
    public static Signature FinalOf(Signature frozen)
    {
        ArgumentNullException.ThrowIfNull(frozen);
        return frozen.SubtaskType switch
        {
            "chain" => FinalOf(Workflow.MembersOf(frozen, frozen.Task)[^1]),
            "chord" => FinalOf(Workflow.PartsOf(frozen, frozen.Task).Body),
            _ => frozen,
        };
    }

    /// <summary>The id of the result a frozen signature ends in (see <see cref="FinalOf"/>), and whether it is a group's.</summary>
    public static (string Id, bool IsGroup) FinalResultOf(Signature frozen)
    {
        var final = FinalOf(frozen);
        return (IdOf(final) ?? throw new ArgumentException($"{final.Task} is not frozen: it has no task_id", nameof(frozen)), final.SubtaskType == "group");
    }

    /// <summary>
    /// Sends a frozen signature with <paramref name="partialArgs"/> before its own args (unless it is immutable), as
    /// Celery's <c>apply_async(args)</c>. <paramref name="chainRest"/> is the rest of a chain, last step first, as in
    /// a message's <c>embed.chain</c>. Returns Celery's <c>as_tuple</c> of its result, for a parent's children.
    /// </summary>
    /// <exception cref="MessageDecodeException">A signature in it is malformed; the message names where.</exception>
    /// <exception cref="NotSupportedException">It holds a chord and the result backend cannot join one (rpc://).</exception>
    public Task<JsonNode> ApplyAsync(
        Signature frozen,
        JsonArray? partialArgs,
        Lineage lineage,
        IReadOnlyList<Signature>? chainRest = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frozen);
        ArgumentNullException.ThrowIfNull(lineage);
        return frozen.SubtaskType switch
        {
            null => ApplyTaskAsync(frozen, partialArgs, lineage, chainRest, group: null, chordBody: null, cancellationToken),
            "chain" => ApplyChainAsync(frozen, partialArgs, lineage, chainRest, cancellationToken),
            "group" when chainRest is { Count: > 0 } => ApplyAsync(AsChord(frozen, chainRest), partialArgs, lineage, null, cancellationToken),
            "group" => ApplyGroupAsync(frozen, partialArgs, lineage, chordBody: null, cancellationToken),
            "chord" => ApplyChordAsync(frozen, partialArgs, lineage, chainRest, cancellationToken),
            var other => throw new MessageDecodeException($"{frozen.Task}.subtask_type", $"'{other}' is not a canvas type (chain, group, chord or null)"),
        };
    }

    /// <summary>Celery's <c>as_tuple</c> of one task's result: <c>[[id, null], null]</c>.</summary>
    public static JsonArray TaskTuple(string id) => Results.GroupTuple.Task(id);

    private async Task<JsonNode> ApplyTaskAsync(
        Signature signature,
        JsonArray? partialArgs,
        Lineage lineage,
        IReadOnlyList<Signature>? chainRest,
        (string Id, int Index)? group,
        Signature? chordBody,
        CancellationToken cancellationToken)
    {
        var path = signature.Task;
        var options = SignatureOptions.ToSendOptions(signature.Options, path);
        var args = signature.Immutable || partialArgs is null
            ? (JsonArray)signature.Args.DeepClone()
            : new JsonArray([.. partialArgs.Select(a => a?.DeepClone()), .. signature.Args.Select(a => a?.DeepClone())]);
        options = options with
        {
            ParentId = lineage.ParentId ?? options.ParentId,
            RootId = lineage.RootId ?? options.RootId,
            Priority = options.Priority ?? lineage.Priority,
            ReplyTo = options.ReplyTo ?? lineage.ReplyTo,
            Group = group?.Id ?? options.Group,
        };
        // A chord body carries the rest of its chain in its options, as Celery's does.
        chainRest ??= signature.Options["chain"] is JsonArray rest
            ? rest.Select((step, i) => Signature.FromJson(step, $"{path}.options.chain[{i}]")).ToList()
            : null;
        var replyQueue = options.ReplyTo is null && app.HasResultBackend ? await app.Results.ReplyQueueAsync(cancellationToken).ConfigureAwait(false) : null;
        var message = app.BuildMessage(signature.Task, args, (JsonObject)signature.Kwargs.DeepClone(), options, replyQueue) with
        {
            GroupIndex = group?.Index,
            Embed = new TaskEmbed { Callbacks = options.Link, Errbacks = options.LinkError, Chain = chainRest, Chord = chordBody },
        };
        await app.PublishAsync(message, options.Queue, options.Exchange, options.RoutingKey, cancellationToken).ConfigureAwait(false);
        return TaskTuple(message.Id);
    }

    private Task<JsonNode> ApplyChainAsync(Signature chain, JsonArray? partialArgs, Lineage lineage, IReadOnlyList<Signature>? chainRest, CancellationToken cancellationToken)
    {
        // Celery's prepare_steps: a group followed by another step becomes a chord with that step as its body.
        var steps = Workflow.MembersOf(chain, chain.Task).ToList();
        for (var i = steps.Count - 2; i >= 0; i--)
        {
            if (steps[i].SubtaskType == "group")
            {
                steps[i] = AsChord(steps[i], [steps[i + 1]]);
                steps.RemoveAt(i + 1);
            }
        }

        // The rest travels last step first: the worker pops the next one off the end.
        var rest = new List<Signature>(chainRest ?? []);
        rest.AddRange(Enumerable.Reverse(steps.Skip(1)));
        return ApplyAsync(steps[0], partialArgs, lineage, rest, cancellationToken);
    }

    private async Task<JsonNode> ApplyGroupAsync(Signature group, JsonArray? partialArgs, Lineage lineage, Signature? chordBody, CancellationToken cancellationToken)
    {
        var groupId = IdOf(group)!;
        var members = Workflow.MembersOf(group, group.Task);
        var results = new JsonArray();
        for (var i = 0; i < members.Count; i++)
        {
            var member = WithGroupOptions(members[i], group.Options);
            var tuple = member.SubtaskType is null
                ? await ApplyTaskAsync(member, partialArgs, lineage, chainRest: null, (groupId, i), chordBody, cancellationToken).ConfigureAwait(false)
                : await ApplyAsync(member, partialArgs, lineage, chainRest: null, cancellationToken).ConfigureAwait(false);
            results.Add(tuple);
        }

        return new JsonArray(new JsonArray(groupId, null), results);
    }

    private async Task<JsonNode> ApplyChordAsync(Signature chord, JsonArray? partialArgs, Lineage lineage, IReadOnlyList<Signature>? chainRest, CancellationToken cancellationToken)
    {
        var (header, body) = Workflow.PartsOf(chord, chord.Task);
        foreach (var (name, value) in chord.Options)
        {
            if (name != "task_id" && !body.Options.ContainsKey(name))
            {
                body = body.WithOption(name, value);
            }
        }

        if (chainRest is { Count: > 0 })
        {
            body = body.WithOption("chain", new JsonArray([.. chainRest.Select(step => (JsonNode)step.ToJson())]));
        }

        var members = Workflow.MembersOf(header, header.Task);
        if (members.FirstOrDefault(m => m.SubtaskType is not null) is { } nested)
        {
            throw new NotSupportedException($"a chord's header members must be tasks; {nested.Task} is a {nested.SubtaskType}");
        }

        var bodyResult = TaskTuple(FinalResultOf(body).Id);
        if (members.Count == 0)
        {
            // No member will ever finish to apply the body, so it runs now with no results, as in Celery.
            await ApplyAsync(body, [new JsonArray()], lineage, cancellationToken: cancellationToken).ConfigureAwait(false);
            return bodyResult;
        }

        var groupId = IdOf(header)!;
        var memberIds = members.Select(m => FinalResultOf(m).Id).ToList();
        var results = app.Results;
        await results.SaveGroupAsync(groupId, memberIds, cancellationToken).ConfigureAwait(false);
        if (!results.CountsChordParts)
        {
            await SendChordUnlockAsync(groupId, body, memberIds, cancellationToken).ConfigureAwait(false);
        }

        await ApplyGroupAsync(header, partialArgs, lineage, body, cancellationToken).ConfigureAwait(false);
        return bodyResult;
    }

    /// <summary>Celery's fallback join for a store that cannot count: a task that polls the members and then applies the body.</summary>
    private async Task SendChordUnlockAsync(string groupId, Signature body, IReadOnlyList<string> memberIds, CancellationToken cancellationToken)
    {
        var bodyOptions = SignatureOptions.ToSendOptions(body.Options, body.Task);
        var kwargs = new JsonObject
        {
            ["interval"] = null,
            ["max_retries"] = null,
            ["result"] = new JsonArray([.. memberIds.Select(id => (JsonNode)TaskTuple(id))]),
        };
        await app.SendTaskAsync(
            ChordUnlockTask,
            [groupId, body.ToJson()],
            kwargs,
            new SendOptions { Countdown = UnlockCountdown, Queue = bodyOptions.Queue, Priority = bodyOptions.Priority, IgnoreResult = true },
            cancellationToken).ConfigureAwait(false);
    }

    private static Signature AsChord(Signature group, IReadOnlyList<Signature> rest)
    {
        var body = rest[^1];
        var chord = Workflow.Chord(Workflow.MembersOf(group, group.Task), body);
        var kwargs = (JsonObject)chord.Kwargs.DeepClone();
        kwargs["header"] = group.ToJson();
        chord = chord with { Kwargs = kwargs };
        return rest.Count == 1 ? chord : Workflow.Chain([chord, .. rest.Take(rest.Count - 1).Reverse()]);
    }

    private static Signature WithGroupOptions(Signature member, JsonObject groupOptions)
    {
        foreach (var (name, value) in groupOptions)
        {
            if (!GroupOnlyOptions.Contains(name))
            {
                member = member.WithOption(name, value);
            }
        }

        return member;
    }

    private static Signature WithTasks(Signature primitive, IEnumerable<Signature> tasks)
    {
        var kwargs = (JsonObject)primitive.Kwargs.DeepClone();
        kwargs["tasks"] = new JsonArray([.. tasks.Select(t => (JsonNode)t.ToJson())]);
        return primitive with { Kwargs = kwargs };
    }

    private static string? IdOf(Signature signature) =>
        signature.Options["task_id"] is JsonValue value && value.TryGetValue<string>(out var id) ? id : null;

    private static Signature WithId(Signature signature) =>
        IdOf(signature) is null ? signature.WithOption("task_id", Uuid.NewId()) : signature;
}
