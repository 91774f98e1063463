using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ClusterQueue.Protocol;

/// <summary>Converts <see cref="TaskMessage"/> to and from an <see cref="Envelope"/> exactly as Celery 5.2.6 does over AMQP.</summary>
public sealed class TaskMessageCodec(TaskMessageCodecOptions options)
{
    private const string CompressionHeader = "compression";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    public TaskMessageCodec()
        : this(TaskMessageCodecOptions.Default)
    {
    }

    /// <summary>Resolved up front so that a misspelt compression fails when the codec is made, not at the first send.</summary>
    private readonly string? compression = options.Compression is { } name ? BodyCompression.Resolve(name) : null;

    /// <summary>Resolved up front for the same reason; pickle fails here.</summary>
    private readonly string serializer = BodySerializers.ResolveForEncoding(options.Serializer);

    /// <summary>An accept list naming pickle is refused when the codec is made rather than at the first pickle message.</summary>
    private readonly IReadOnlySet<string> accept = options.Accept.Contains(BodySerializers.Pickle)
        ? throw new ArgumentException($"the accept list names {BodySerializers.Pickle}: {BodySerializers.PickleRefusal}", nameof(options))
        : options.Accept;

    /// <summary>Checked up front: an auth serializer or accept list without keys to sign or certificates to verify with cannot work.</summary>
    private readonly AuthSerializer? signing =
        (options.Serializer is { } s && BodySerializers.ContentTypeOf(s) == BodySerializers.Auth) || options.Accept.Contains(BodySerializers.Auth)
            ? options.Signing ?? throw new ArgumentException(NoSigning, nameof(options))
            : options.Signing;

    public TaskMessageCodecOptions Options { get; } = options;

    /// <summary>
    /// Builds the envelope a Celery client would publish: headers in Celery's order with Python's field types,
    /// a <c>json.dumps</c>-identical body (or kombu's msgpack or yaml form of it, or that JSON signed by auth), and Celery's defaults for every
    /// null the message leaves open.
    /// </summary>
    /// <exception cref="ArgumentException">An extra header repeats a standard name or holds a value AMQP cannot carry to Python; the serializer is pickle or unknown.</exception>
    public Envelope Encode(TaskMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var contentType = message.Serializer is { } chosen ? BodySerializers.ResolveForEncoding(chosen) : serializer;
        var compressWith = message.Compression is { } named ? BodyCompression.Resolve(named) : compression;
        var headers = new OrderedDictionary<string, object?>(StandardHeaderCount + message.ExtraHeaders.Count + 1)
        {
            ["lang"] = message.Lang ?? "py",
            ["task"] = message.Task,
            ["id"] = message.Id,
            ["shadow"] = message.Shadow,
            ["eta"] = message.Eta is { } eta ? CeleryTime.Format(eta) : null,
            ["expires"] = message.Expires is { } expires ? CeleryTime.Format(expires) : null,
            ["group"] = message.Group,
            ["group_index"] = message.GroupIndex,
            ["retries"] = message.Retries,
            ["timelimit"] = new List<object?> { Seconds(message.TimeLimit.Hard), Seconds(message.TimeLimit.Soft) },
            ["root_id"] = message.RootId ?? message.Id,
            ["parent_id"] = message.ParentId,
            ["argsrepr"] = message.ArgsRepr ?? PythonRepr.Args(message.Args, message.ArgsStyle),
            ["kwargsrepr"] = message.KwargsRepr ?? PythonRepr.Kwargs(message.Kwargs),
            ["origin"] = message.Origin ?? Options.Origin,
            ["ignore_result"] = message.IgnoreResult,
        };
        foreach (var (name, value) in message.ExtraHeaders)
        {
            if (headers.ContainsKey(name) || name == CompressionHeader)
            {
                throw new ArgumentException($"extra header '{name}' repeats a header the codec writes itself", nameof(message));
            }

            headers[name] = HeaderValues.Normalize(value, name);
        }

        ReadOnlyMemory<byte> body = contentType switch
        {
            BodySerializers.Msgpack => MsgpackBody.Write(BodyNodes(message)),
            BodySerializers.Yaml => YamlBody.Write(BodyNodes(message)),

            // Celery signs the JSON text, so the receiver checks the signature before parsing anything.
            BodySerializers.Auth => Signer().Sign(WriteBody(message), BodySerializers.Json, BodySerializers.ContentEncodingOf(BodySerializers.Json)),
            _ => WriteBody(message),
        };
        if (compressWith is not null)
        {
            headers[CompressionHeader] = compressWith;
            body = BodyCompression.Compress(body.Span, compressWith);
        }

        return new Envelope
        {
            Body = body,
            Headers = headers,
            Properties = new MessageProperties
            {
                ContentType = contentType,
                ContentEncoding = BodySerializers.ContentEncodingOf(contentType),
                DeliveryMode = message.DeliveryMode,
                Priority = message.Priority,
                CorrelationId = message.CorrelationId ?? message.Id,
                ReplyTo = message.ReplyTo ?? "",
                Expiration = message.Expiration ?? ExpirationFor(message.Expires),
            },
        };
    }

    /// <summary>
    /// Reads a task message, checking in order: pickle, the accept list, the content encoding, the size limit, the
    /// compression, the signature of an auth body, the body, the headers. Every failure is a
    /// <see cref="MessageDecodeException"/> naming the field.
    /// </summary>
    /// <remarks>A msgpack or yaml body is turned into the JSON text Python's json.dumps would write for the same value, then read as JSON, so every body shape check and error is the same whatever the serializer.</remarks>
    public TaskMessage Decode(Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var properties = envelope.Properties;
        var contentType = properties.ContentType ?? "";
        if (contentType == BodySerializers.Pickle) throw ContentDisallowedException.Pickle();
        if (!accept.Contains(contentType)) throw new ContentDisallowedException(contentType, accept);
        CheckSerializer(contentType, properties.ContentEncoding, "property");
        if (envelope.Body.Length > Options.MaxBodyBytes) throw new MessageTooLargeException("body", envelope.Body.Length, Options.MaxBodyBytes);

        var headers = new HeaderReader(envelope.Headers);
        var body = envelope.Body;
        if (headers.OptionalString(CompressionHeader) is { } compression)
        {
            body = BodyCompression.Decompress(body, compression, Options.MaxBodyBytes);
        }

        if (contentType == BodySerializers.Auth)
        {
            // Celery decodes a verified body whatever its inner content type (force=True); pickle stays refused.
            var signed = Signer().Verify(body.Span);
            contentType = signed.ContentType;
            if (contentType == BodySerializers.Pickle) throw ContentDisallowedException.Pickle();
            if (contentType == BodySerializers.Auth) throw new MessageDecodeException("signed body", "has content type auth itself");
            CheckSerializer(contentType, signed.ContentEncoding, "signed body's");
            body = signed.Body;
        }

        body = contentType switch
        {
            BodySerializers.Msgpack => MsgpackBody.ToJson(body),
            BodySerializers.Yaml => YamlBody.ToJson(body, Options.MaxBodyBytes),
            _ => body,
        };

        var (args, kwargs, embed) = TaskBodyReader.Read(body.Span);
        var argsRepr = headers.OptionalString("argsrepr");
        return new TaskMessage
        {
            Lang = headers.OptionalString("lang"),
            Task = headers.RequiredString("task"),
            Id = headers.RequiredString("id"),
            Shadow = headers.OptionalString("shadow"),
            Eta = headers.OptionalTime("eta"),
            Expires = headers.OptionalTime("expires"),
            Group = headers.OptionalString("group"),
            GroupIndex = headers.OptionalInt("group_index"),
            Retries = headers.OptionalInt("retries") ?? 0,
            TimeLimit = headers.TimeLimit("timelimit"),
            RootId = headers.OptionalString("root_id"),
            ParentId = headers.OptionalString("parent_id"),
            ArgsRepr = argsRepr,
            KwargsRepr = headers.OptionalString("kwargsrepr"),
            Origin = headers.OptionalString("origin"),
            IgnoreResult = headers.OptionalBool("ignore_result") ?? false,
            ExtraHeaders = ExtraHeaders(envelope.Headers),
            CorrelationId = properties.CorrelationId,
            ReplyTo = properties.ReplyTo,
            Priority = properties.Priority,
            DeliveryMode = properties.DeliveryMode,
            Expiration = properties.Expiration,
            Args = args,

            // A list repr is the only trace of args given as a Python list; keeping it keeps re-encoding faithful.
            ArgsStyle = argsRepr is ['[', ..] ? ArgsStyle.List : ArgsStyle.Tuple,
            Kwargs = kwargs,
            Embed = embed,
        };
    }

    /// <summary>The content type has a serializer here and the encoding fits it; <paramref name="where"/> starts the field named in errors.</summary>
    private static void CheckSerializer(string contentType, string? encoding, string where)
    {
        if (contentType is not (BodySerializers.Json or BodySerializers.Msgpack or BodySerializers.Yaml or BodySerializers.Auth))
        {
            throw new MessageDecodeException($"{where} 'content_type'", $"'{contentType}' is accepted but has no serializer here (json, msgpack, yaml, auth)");
        }

        if (encoding is { Length: > 0 } && !EncodingFits(contentType, encoding))
        {
            throw new MessageDecodeException($"{where} 'content_encoding'", $"'{encoding}' is not supported for {contentType} (only {BodySerializers.ContentEncodingOf(contentType)})");
        }
    }

    private const string NoSigning = "the auth serializer needs Signing (a key, its certificate and a certificate store)";

    /// <summary>The signer; a message that asks for auth itself reaches here on a codec made without one.</summary>
    private AuthSerializer Signer() => signing ?? throw new ArgumentException(NoSigning);

    /// <summary>kombu writes utf-8 for text formats and binary for msgpack; a text body in UTF-8 is accepted either way.</summary>
    private static bool EncodingFits(string contentType, string encoding) =>
        encoding.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || encoding.Equals("utf8", StringComparison.OrdinalIgnoreCase)
        || (contentType == BodySerializers.Msgpack && encoding.Equals("binary", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body as nodes for a serializer other than JSON; the embed goes through the JSON writer so that its layout has one source.</summary>
    private static JsonNode?[] BodyNodes(TaskMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        WriteEmbed(new PythonJsonWriter(buffer), message.Embed);
        return [message.Args, message.Kwargs, JsonNode.Parse(buffer.WrittenSpan)];
    }

    private static readonly HashSet<string> StandardHeaderSet = new(TaskMessage.StandardHeaders, StringComparer.Ordinal);

    private static int StandardHeaderCount => TaskMessage.StandardHeaders.Count;

    private static IReadOnlyList<KeyValuePair<string, object?>> ExtraHeaders(IReadOnlyDictionary<string, object?> headers)
    {
        List<KeyValuePair<string, object?>>? extras = null;
        foreach (var pair in headers)
        {
            if (pair.Key != CompressionHeader && !IsStandard(pair.Key)) (extras ??= []).Add(pair);
        }

        return extras ?? (IReadOnlyList<KeyValuePair<string, object?>>)[];
    }

    private static bool IsStandard(string name) => StandardHeaderSet.Contains(name);

    /// <summary>Python sends whatever number the user gave; a whole number of seconds goes as an int, as <c>time_limit=30</c> does.</summary>
    private static object? Seconds(double? value) => value switch
    {
        null => null,
        { } v when v == Math.Floor(v) && v is >= int.MinValue and <= int.MaxValue => (int)v,
        { } v => v,
    };

    /// <summary>Celery's <c>expiration</c>: seconds left until <c>expires</c>, floored at 0, then kombu's <c>str(int(s * 1000))</c>.</summary>
    private string? ExpirationFor(DateTimeOffset? expires)
    {
        if (expires is not { } at) return null;
        var seconds = Math.Max(0, (at - Options.Clock.GetUtcNow()).TotalSeconds);
        return ((long)(seconds * 1000)).ToString(CultureInfo.InvariantCulture);
    }

    private static byte[] WriteBody(TaskMessage message)
    {
        var buffer = scratch ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = new PythonJsonWriter(buffer);
        writer.Raw('[');
        writer.Node(message.Args);
        writer.Raw(", "u8);
        writer.Node(message.Kwargs);
        writer.Raw(", "u8);
        WriteEmbed(writer, message.Embed);
        writer.Raw(']');
        var bytes = buffer.WrittenSpan.ToArray();

        // A rare huge message should not pin its buffer to the thread for ever.
        if (buffer.Capacity > 1024 * 1024) scratch = null;
        return bytes;
    }

    private static void WriteEmbed(PythonJsonWriter writer, TaskEmbed embed)
    {
        writer.Raw("{\"callbacks\": "u8);
        WriteSignatures(writer, embed.Callbacks);
        writer.Raw(", \"errbacks\": "u8);
        WriteSignatures(writer, embed.Errbacks);
        writer.Raw(", \"chain\": "u8);
        WriteSignatures(writer, embed.Chain);
        writer.Raw(", \"chord\": "u8);
        WriteSignature(writer, embed.Chord);
        writer.Object(embed.Extra, first: false);
        writer.Raw('}');
    }

    private static void WriteSignatures(PythonJsonWriter writer, IReadOnlyList<Signature>? signatures)
    {
        if (signatures is null)
        {
            writer.Raw("null"u8);
            return;
        }

        writer.Raw('[');
        for (var i = 0; i < signatures.Count; i++)
        {
            if (i > 0) writer.Raw(", "u8);
            WriteSignature(writer, signatures[i]);
        }

        writer.Raw(']');
    }

    private static void WriteSignature(PythonJsonWriter writer, Signature? signature)
    {
        if (signature is null)
        {
            writer.Raw("null"u8);
            return;
        }

        writer.Raw("{\"task\": "u8);
        writer.String(signature.Task);
        writer.Raw(", \"args\": "u8);
        writer.Node(signature.Args);
        writer.Raw(", \"kwargs\": "u8);
        writer.Node(signature.Kwargs);
        writer.Raw(", \"options\": "u8);
        writer.Node(signature.Options);
        writer.Raw(", \"subtask_type\": "u8);
        writer.String(signature.SubtaskType);
        writer.Raw(", \"immutable\": "u8);
        writer.Bool(signature.Immutable);
        writer.Object(signature.Extra, first: false);
        writer.Raw('}');
    }

    /// <summary>Typed access to the headers a transport delivered; each failure names the header.</summary>
    private readonly struct HeaderReader(IReadOnlyDictionary<string, object?> headers)
    {
        public string RequiredString(string name)
        {
            if (!headers.TryGetValue(name, out var value)) throw new MessageDecodeException($"header '{name}'", "is missing");
            return value as string ?? throw WrongType(name, value, "a string");
        }

        public string? OptionalString(string name) =>
            headers.GetValueOrDefault(name) switch
            {
                null => null,
                string s => s,
                var other => throw WrongType(name, other, "a string or null"),
            };

        public int? OptionalInt(string name) =>
            headers.GetValueOrDefault(name) switch
            {
                null => null,
                int i => i,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                var other => throw WrongType(name, other, "an int or null"),
            };

        public bool? OptionalBool(string name) =>
            headers.GetValueOrDefault(name) switch
            {
                null => null,
                bool b => b,
                var other => throw WrongType(name, other, "a bool or null"),
            };

        public DateTimeOffset? OptionalTime(string name) =>
            OptionalString(name) is { } text ? CeleryTime.Parse(text, $"header '{name}'") : null;

        public TimeLimits TimeLimit(string name)
        {
            var value = headers.GetValueOrDefault(name);
            if (value is null) return TimeLimits.None;
            if (value is string || value is not IEnumerable list) throw WrongType(name, value, "a list [hard, soft]");
            var items = list.Cast<object?>().ToList();
            if (items.Count != 2) throw new MessageDecodeException($"header '{name}'", $"must have 2 elements [hard, soft], got {items.Count}");
            return new TimeLimits(Limit(name, items[0], "hard"), Limit(name, items[1], "soft"));
        }

        private static double? Limit(string name, object? value, string which) => value switch
        {
            null => null,
            int i => i,
            long l => l,
            double d => d,
            _ => throw new MessageDecodeException($"header '{name}'", $"{which} limit must be a number or null, got {TypeName(value)}"),
        };

        private static MessageDecodeException WrongType(string name, object? value, string expected) =>
            new($"header '{name}'", $"must be {expected}, got {TypeName(value)}");

        private static string TypeName(object? value) => value switch
        {
            null => "null",
            string => "string",
            int or long => "int",
            double or float => "float",
            bool => "bool",
            IEnumerable<KeyValuePair<string, object?>> => "table",
            IEnumerable => "list",
            _ => value.GetType().Name,
        };
    }
}
