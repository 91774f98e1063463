using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ClusterQueue.Tests.Node.Pool;

/// <summary>
/// Builds small task assemblies at test time, as a user's build would: prefork children load them with <c>--app</c>,
/// and autoreload needs two versions of one assembly.
/// </summary>
internal static class TaskAssemblyCompiler
{
    private static readonly MetadataReference[] References =
    [
        .. Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Where(IsManagedAssembly)
            .Select(path => MetadataReference.CreateFromFile(path)),
        MetadataReference.CreateFromFile(typeof(ClusterQueue.Client.CeleryTaskAttribute).Assembly.Location),
    ];

    /// <summary>What a bootstep's code also needs: Akka for its actors, the logging and configuration abstractions.</summary>
    public static readonly MetadataReference[] StepReferences =
    [
        MetadataReference.CreateFromFile(typeof(Akka.Actor.Props).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Configuration.IConfiguration).Assembly.Location),
    ];

    /// <summary>Compiles <paramref name="source"/> to <paramref name="path"/>, written to a side file and moved in, as a deploy does.</summary>
    public static string Compile(string path, string source, string assemblyName = "PoolTasks", IEnumerable<MetadataReference>? extraReferences = null)
    {
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source)],
            [.. References, .. extraReferences ?? []],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var staging = path + ".new";
        using (var output = File.Create(staging))
        {
            var emitted = compilation.Emit(output);
            if (!emitted.Success)
            {
                throw new InvalidOperationException("test task assembly does not compile: " + string.Join("; ", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
            }
        }

        File.Move(staging, path, overwrite: true);
        return path;
    }

    /// <summary>The tasks the prefork tests use; <paramref name="version"/> is what tasks.version returns.</summary>
    public static string PoolTasks(string version = "v1") => $$"""
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using ClusterQueue.Client;

        public static class PoolTasks
        {
            private static readonly List<byte[]> Held = new();

            [CeleryTask("tasks.pid")]
            public static int Pid() => Environment.ProcessId;

            [CeleryTask("tasks.version")]
            public static string Version() => "{{version}}";

            [CeleryTask("tasks.noop")]
            public static void Noop() { }

            [CeleryTask("tasks.add")]
            public static long Add(long x, long y) => x + y;

            // Ignores its token: only a kill stops it.
            [CeleryTask("tasks.spin")]
            public static int Spin(double seconds)
            {
                var end = DateTime.UtcNow.AddSeconds(seconds);
                while (DateTime.UtcNow < end) { }
                return Environment.ProcessId;
            }

            [CeleryTask("tasks.sleep")]
            public static async Task<int> Sleep(double seconds, CancellationToken cancellationToken)
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
                return Environment.ProcessId;
            }

            // Writes a mark when it runs in the child, so a test knows the child holds the task before it kills it.
            [CeleryTask("tasks.hold")]
            public static async Task<int> Hold(string mark, double seconds, CancellationToken cancellationToken)
            {
                System.IO.File.WriteAllText(mark, Environment.ProcessId.ToString());
                await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
                return Environment.ProcessId;
            }

            // Holds its slot until the test creates the file: a gate that works across processes.
            [CeleryTask("tasks.wait_file")]
            public static async Task<int> WaitFile(string path, CancellationToken cancellationToken)
            {
                while (!File.Exists(path))
                {
                    await Task.Delay(20, cancellationToken);
                }

                return Environment.ProcessId;
            }

            // Keeps what it allocates, as a leaking library would.
            [CeleryTask("tasks.leak")]
            public static int Leak(int mebibytes)
            {
                var block = new byte[mebibytes * 1024 * 1024];
                Array.Fill(block, (byte)1);
                Held.Add(block);
                return Environment.ProcessId;
            }

            [CeleryTask("tasks.fail")]
            public static void Fail(string message) => throw new ArgumentException(message);

            [CeleryTask("tasks.timeout", AutoRetryFor = new[] { typeof(TimeoutException) }, MaxRetries = 2, DefaultRetryDelay = 0)]
            public static string Timeout(TaskContext context) =>
                context.Retries < 2 ? throw new TimeoutException("try " + context.Retries) : "retried " + context.Retries;

            [CeleryTask("tasks.retry")]
            public static string Retry(TaskContext context) =>
                context.Retries < 1 ? throw context.Retry(countdown: TimeSpan.Zero) : "retried " + context.Retries;
        }
        """;

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
