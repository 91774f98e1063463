using ClusterQueue.Config;

namespace ClusterQueue.Tests.Config;

/// <summary>Small helpers for reading values out of parsed HOCON trees in tests.</summary>
internal static class HoconTestSupport
{
    public static HoconObject Parse(string text, params (string Name, string Value)[] environment)
    {
        var variables = environment.ToDictionary(e => e.Name, e => e.Value);
        return HoconReader.Parse(text, "test.conf", name => variables.GetValueOrDefault(name));
    }

    public static string? Scalar(this HoconObject root, string path) =>
        root.Find(HoconPath.Split(path)) switch
        {
            HoconScalar scalar => scalar.Value,
            null => throw new KeyNotFoundException(path),
            var other => throw new InvalidOperationException($"{path} is a {other.GetType().Name}"),
        };

    public static string[] Strings(this HoconObject root, string path) =>
        [.. ((HoconArray)root.Find(HoconPath.Split(path))!).Items.Cast<HoconScalar>().Select(s => s.Value ?? "null")];

    public static ConfigException ParseError(string text, params (string Name, string Value)[] environment) =>
        Assert.Throws<ConfigException>(() => Parse(text, environment));

    /// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cq-config-" + Guid.NewGuid().ToString("N"));

        public TempDirectory() => Directory.CreateDirectory(Path);

        public string Write(string name, string text)
        {
            var file = System.IO.Path.Combine(Path, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
