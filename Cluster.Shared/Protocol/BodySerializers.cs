namespace ClusterQueue.Protocol;

/// <summary>kombu's serializers for task bodies, by name and content type: json, msgpack, yaml and Celery's signed auth; pickle is always refused.</summary>
/// <remarks>
/// pickle is refused even when listed in an accept list: unpickling runs code chosen by whoever wrote the message,
/// and a .NET worker could not run Python objects anyway.
/// </remarks>
public static class BodySerializers
{
    public const string Json = "application/json";

    public const string Msgpack = "application/x-msgpack";

    public const string Yaml = "application/x-yaml";

    /// <summary>Celery's <c>auth</c> serializer (register_auth): a JSON body signed by <see cref="AuthSerializer"/>.</summary>
    public const string Auth = "application/data";

    /// <summary>kombu's content type for pickle, which is never encoded or decoded here.</summary>
    public const string Pickle = "application/x-python-serialize";

    /// <summary>The content type of a kombu serializer name (<c>json</c>, <c>msgpack</c>, <c>yaml</c>, <c>auth</c>, <c>pickle</c>); anything else is taken as a content type already.</summary>
    public static string ContentTypeOf(string name) => name switch
    {
        "json" => Json,
        "msgpack" => Msgpack,
        "yaml" => Yaml,
        "auth" => Auth,
        "pickle" => Pickle,
        _ => name,
    };

    /// <summary>The kombu name of a content type, or null when kombu has none.</summary>
    public static string? NameOf(string contentType) => contentType switch
    {
        Json => "json",
        Msgpack => "msgpack",
        Yaml => "yaml",
        Auth => "auth",
        Pickle => "pickle",
        _ => null,
    };

    /// <summary>The <c>content_encoding</c> kombu writes: utf-8 for text formats (auth's base64 too), binary for msgpack.</summary>
    public static string ContentEncodingOf(string contentType) => contentType == Msgpack ? "binary" : "utf-8";

    /// <summary>The content type to encode with, for a serializer name or content type.</summary>
    /// <exception cref="ArgumentException">The serializer is pickle or unknown.</exception>
    public static string ResolveForEncoding(string nameOrType) =>
        EncodingProblem(nameOrType) is { } problem ? throw new ArgumentException(problem, nameof(nameOrType)) : ContentTypeOf(nameOrType);

    /// <summary>Why a serializer cannot be used for encoding, or null when it can.</summary>
    public static string? EncodingProblem(string nameOrType) => ContentTypeOf(nameOrType) switch
    {
        Json or Msgpack or Yaml or Auth => null,
        Pickle => $"the serializer '{nameOrType}' ({Pickle}) is refused: {PickleRefusal}; use json, msgpack, yaml or auth",
        _ => $"'{nameOrType}' is not a known serializer (json, msgpack, yaml, auth)",
    };

    /// <summary>Why pickle is refused, in one sentence naming it.</summary>
    public const string PickleRefusal = "pickle is never accepted, as unpickling runs arbitrary code";
}
