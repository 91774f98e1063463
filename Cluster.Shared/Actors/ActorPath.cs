namespace ClusterQueue.Actors;

/// <summary>Where an actor sits in the tree, such as <c>/user/node/consumers/celery</c>.</summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    private readonly string _text;

    private ActorPath(ActorPath? parent, string name)
    {
        Parent = parent;
        Name = name;
        _text = parent is null ? "/" : parent.Parent is null ? "/" + name : parent._text + "/" + name;
    }

    /// <summary>The parent path, or null for the root.</summary>
    public ActorPath? Parent { get; }

    public string Name { get; }

    /// <summary>Names from the root down, without the root itself.</summary>
    public IReadOnlyList<string> Elements
    {
        get
        {
            var names = new List<string>();
            for (var p = this; p.Parent is not null; p = p.Parent)
            {
                names.Add(p.Name);
            }

            names.Reverse();
            return names;
        }
    }

    internal static ActorPath Root(string name) => new(null, name);

    public ActorPath Child(string name) => new(this, name);

    public static ActorPath operator /(ActorPath parent, string name) => parent.Child(name);

    public bool Equals(ActorPath? other) => other is not null && _text == other._text;

    public override bool Equals(object? obj) => Equals(obj as ActorPath);

    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => _text;
}
