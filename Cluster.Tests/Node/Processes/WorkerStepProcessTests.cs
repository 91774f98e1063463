using ClusterQueue.Node;
using ClusterQueue.Tests.Node.Pool;

namespace ClusterQueue.Tests.Node.Processes;

/// <summary>Bootsteps found in a <c>--app</c> assembly compiled at test time, run by the real worker command.</summary>
[Collection(NodeProcessCollection.Name)]
[Trait("Category", "Process")]
public class WorkerStepProcessTests
{
    private static readonly TimeSpan Generous = ProcessTestDirectory.Generous;

    private const string GreetingApp = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Akka.Actor;
        using ClusterQueue.Client;

        public static class StepTasks
        {
            [CeleryTask("steps.greeting")]
            public static string Greeting() => GreetingStep.Greeting ?? "the step has not started";
        }

        public sealed class GreeterActor : ReceiveActor
        {
        }

        public sealed class GreetingStep : IWorkerStep
        {
            public static volatile string? Greeting;

            public string Name => "greeting";

            public IReadOnlyList<string> Requires => new[] { "pool" };

            public async Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken)
            {
                var greeter = await context.SpawnActorAsync(Props.Create<GreeterActor>(), "greeter");
                Greeting = $"hello from {context.NodeName} via {greeter.Path.ToStringWithoutAddress()}";
            }

            public Task StopAsync(CancellationToken cancellationToken)
            {
                Console.WriteLine("greeting step stopped");
                return Task.CompletedTask;
            }
        }
        """;

    private const string BrokenApp = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using ClusterQueue.Client;

        public sealed class FirstStep : IWorkerStep
        {
            public string Name => "first";
            public IReadOnlyList<string> Requires => Array.Empty<string>();
            public Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            public Task StopAsync(CancellationToken cancellationToken)
            {
                Console.WriteLine("first step stopped");
                return Task.CompletedTask;
            }
        }

        public sealed class LicenceStep : IWorkerStep
        {
            public string Name => "licence";
            public IReadOnlyList<string> Requires => new[] { "first" };
            public Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken) => throw new InvalidOperationException("no licence key");
            public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    private const string CyclicApp = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using ClusterQueue.Client;

        public sealed class AStep : IWorkerStep
        {
            public string Name => "a";
            public IReadOnlyList<string> Requires => new[] { "b" };
            public Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public sealed class BStep : IWorkerStep
        {
            public string Name => "b";
            public IReadOnlyList<string> Requires => new[] { "a" };
            public Task StartAsync(WorkerStepContext context, CancellationToken cancellationToken) => Task.CompletedTask;
            public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """;

    [Fact]
    public async Task A_step_in_the_app_assembly_is_listed_among_the_built_in_parts_prepares_what_its_task_uses_and_stops_with_the_worker()
    {
        await using var dir = new ProcessTestDirectory();
        var app = Compile(dir, "Greeting.dll", GreetingApp);
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-A", app, "-n", "steps@%h", "-c", "1", .. dir.Connection]);
        await worker.WaitForLineAsync(l => l.EndsWith(" ready.", StringComparison.Ordinal), "the worker to be ready", Generous);

        var lines = worker.Lines.ToList();
        var pool = lines.FindIndex(l => l.StartsWith("  . pool ", StringComparison.Ordinal));
        var step = lines.FindIndex(l => l.StartsWith("  . greeting ", StringComparison.Ordinal));
        var consumers = lines.FindIndex(l => l.StartsWith("  . consumers ", StringComparison.Ordinal));
        Assert.Contains("[bootsteps]", lines);
        Assert.Contains(lines, l => l.StartsWith("  . cluster ", StringComparison.Ordinal));
        Assert.True(pool >= 0 && pool < step && step < consumers, $"expected pool, greeting, consumers in that order:\n{worker.Output}");
        Assert.Contains("user step GreetingStep (requires pool)", lines[step], StringComparison.Ordinal);

        var sent = await dir.Client.SendTaskAsync("steps.greeting", []);
        var greeting = (await sent.GetAsync(Generous))!.GetValue<string>();
        Assert.StartsWith("hello from steps@", greeting, StringComparison.Ordinal);
        Assert.EndsWith(" via /user/node/greeter", greeting, StringComparison.Ordinal);

        await worker.SignalAsync("TERM");
        Assert.Equal(ExitCodes.Ok, await worker.WaitForExitAsync(Generous));
        Assert.Contains("greeting step stopped", worker.Lines);
    }

    [Fact]
    public async Task A_step_that_throws_at_start_ends_the_worker_with_exit_1_naming_the_step_after_stopping_the_step_before_it()
    {
        await using var dir = new ProcessTestDirectory();
        var app = Compile(dir, "Broken.dll", BrokenApp);
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-A", app, "-c", "1", .. dir.Connection]);

        Assert.Equal(ExitCodes.Failure, await worker.WaitForExitAsync(Generous));
        Assert.Contains("error: bootstep 'licence' failed to start: no licence key", worker.Lines);
        Assert.Contains("first step stopped", worker.Lines);
        Assert.DoesNotContain(worker.Lines, l => l.EndsWith(" ready.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Steps_that_require_each_other_are_a_config_error_naming_them_before_the_worker_starts()
    {
        await using var dir = new ProcessTestDirectory();
        var app = Compile(dir, "Cyclic.dll", CyclicApp);
        await using var worker = NodeProcess.Start(dir.Path, ["worker", "-A", app, .. dir.Connection]);

        Assert.Equal(ExitCodes.ConfigError, await worker.WaitForExitAsync(Generous));
        Assert.Contains("error: --app: bootsteps require each other in a cycle: a -> b -> a", worker.Lines);
        Assert.DoesNotContain("[bootsteps]", worker.Lines);
    }

    private static string Compile(ProcessTestDirectory dir, string file, string source) =>
        TaskAssemblyCompiler.Compile(Path.Combine(dir.Path, file), source, Path.GetFileNameWithoutExtension(file), TaskAssemblyCompiler.StepReferences);
}
