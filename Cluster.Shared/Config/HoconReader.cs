namespace ClusterQueue.Config;

/// <summary>
/// Reads one or more HOCON documents into a single tree (later documents win and objects merge deeply, so a later
/// document may refer to settings of an earlier one), then resolves substitutions.
/// </summary>
public sealed class HoconReader
{
    private readonly HoconObject _root = new(new SourcePosition("(root)", 1, 1));
    private bool _resolved;

    /// <summary>Reads HOCON text; includes are relative to <paramref name="baseDirectory"/>, or the working directory.</summary>
    public HoconReader ReadString(string text, string sourceName, string? baseDirectory = null)
    {
        HoconParser.ParseInto(text, sourceName, baseDirectory, _root, _root, [], new Stack<string>());
        return this;
    }

    /// <summary>Reads a HOCON file; a missing file is a <see cref="ConfigException"/> naming it.</summary>
    public HoconReader ReadFile(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ConfigException($"cannot read config file {fullPath}: expected a file but there is none", new SourcePosition(path, 1, 1));
        }

        var chain = new Stack<string>();
        chain.Push(fullPath);
        HoconParser.ParseInto(File.ReadAllText(fullPath), path, Path.GetDirectoryName(fullPath), _root, _root, [], chain);
        return this;
    }

    /// <summary>Resolves substitutions; a path not found in the tree falls back to <paramref name="environment"/>.</summary>
    public HoconObject Resolve(Func<string, string?>? environment = null)
    {
        if (!_resolved)
        {
            new HoconResolver(_root, environment ?? Environment.GetEnvironmentVariable).ResolveAll();
            _resolved = true;
        }

        return _root;
    }

    /// <summary>Parses and resolves one HOCON text.</summary>
    public static HoconObject Parse(string text, string sourceName = "(string)", Func<string, string?>? environment = null) =>
        new HoconReader().ReadString(text, sourceName).Resolve(environment);
}
