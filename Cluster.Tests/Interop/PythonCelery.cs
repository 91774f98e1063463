using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterQueue.Tests.Interop;

/// <summary>Debian's Python with Celery, from CQ_TEST_PYTHON, and the task module and client script beside the tests.</summary>
public static class PythonCelery
{
    /// <summary>Generous: Python with Celery takes seconds to start on the busy two-core test machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>The folder holding tasks.py and client.py, copied next to the test assembly.</summary>
    public static string ModuleDirectory => Path.Combine(AppContext.BaseDirectory, "Interop", "python");

    /// <summary>The interpreter from CQ_TEST_PYTHON; a missing one fails the test, since a skipped test proves nothing.</summary>
    public static string Interpreter => Environment.GetEnvironmentVariable("CQ_TEST_PYTHON") is { Length: > 0 } path
        ? path
        : throw new InvalidOperationException(
            "CQ_TEST_PYTHON is not set: run the tests through ./test.sh, which installs python3-celery and sets it to /usr/bin/python3");

    /// <summary>A Python process in the module folder with <paramref name="brokerUrl"/> as CELERY_BROKER_URL.</summary>
    public static ProcessStartInfo StartInfo(string brokerUrl, params string[] arguments) => StartInfo(brokerUrl, null, arguments);

    /// <summary>As <see cref="StartInfo(string, string[])"/>, with extra environment variables.</summary>
    public static ProcessStartInfo StartInfo(string brokerUrl, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            WorkingDirectory = ModuleDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.Environment["CELERY_BROKER_URL"] = brokerUrl;
        start.Environment["PYTHONUNBUFFERED"] = "1";
        // The test process's own PYTHONPATH or PYTHONHOME would hide Debian's packages.
        start.Environment.Remove("PYTHONPATH");
        start.Environment.Remove("PYTHONHOME");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Runs <c>client.py scenario</c> and returns the JSON object it printed; a failed run fails with its output.</summary>
    public static Task<JsonObject> RunClientAsync(string brokerUrl, string scenario, IReadOnlyDictionary<string, string>? environment = null) =>
        RunScriptAsync(brokerUrl, environment, "client.py", scenario);

    /// <summary>Runs a script of the module folder with its arguments and returns the JSON object it printed last; a failed run fails with its output.</summary>
    public static async Task<JsonObject> RunScriptAsync(string brokerUrl, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var command = string.Join(' ', arguments);
        using var process = Process.Start(StartInfo(brokerUrl, environment, arguments))
            ?? throw new InvalidOperationException($"cannot start {Interpreter}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {Patience}: {await output}{await errors}");
        }

        var text = await output;
        var lastLine = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (process.ExitCode != 0 || lastLine is null || JsonNode.Parse(lastLine) is not JsonObject printed)
        {
            throw new InvalidOperationException($"{command} exited with {process.ExitCode}:\n{text}\n{await errors}");
        }

        return printed;
    }
}
