using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Monitor.State;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ClusterQueue.Monitor.Top;

/// <summary>
/// The live console, in the spirit of <c>celery events</c>: a worker table and a task table redrawn twice a second,
/// and keys that send remote control for the selected task or worker, with the reply in the status line.
/// </summary>
/// <remarks>
/// Keys: ↑/↓ select a task, ←/→ select a worker, <c>r</c> revoke, <c>t</c> terminate (revoke and cancel the running
/// task), <c>l</c> rate limit of the selected task's type (type the limit, Enter), <c>+</c>/<c>-</c> grow or shrink the
/// selected worker's pool, <c>s</c> then <c>y</c> shut the selected worker down, <c>q</c> quit.
/// </remarks>
public sealed class TopConsole(MonitorNode node, IAnsiConsole console)
{
    private const int TaskRows = 20;
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(3);

    private readonly Lock gate = new();
    private int selectedTask;
    private int selectedWorker;
    private string status = "keys: ↑↓ task  ←→ worker  r revoke  t terminate  l rate limit  +/- pool  s shutdown  q quit";
    private string? input;
    private bool confirmShutdown;

    public async Task RunAsync(Func<ConsoleKeyInfo?> readKey, CancellationToken cancellationToken)
    {
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var keys = Task.Run(() => ReadKeysAsync(readKey, quit), CancellationToken.None);
        await console.Live(Render()).AutoClear(false).StartAsync(async live =>
        {
            while (!quit.IsCancellationRequested)
            {
                live.UpdateTarget(Render());
                try
                {
                    await Task.Delay(Refresh, quit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }).ConfigureAwait(false);
        await quit.CancelAsync().ConfigureAwait(false);
        await keys.ConfigureAwait(false);
    }

    private async Task ReadKeysAsync(Func<ConsoleKeyInfo?> readKey, CancellationTokenSource quit)
    {
        while (!quit.IsCancellationRequested)
        {
            if (readKey() is not { } key)
            {
                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (await HandleAsync(key).ConfigureAwait(false))
            {
                await quit.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Acts on one key; true means quit.</summary>
    private async Task<bool> HandleAsync(ConsoleKeyInfo key)
    {
        if (input is not null)
        {
            await EditRateLimitAsync(key).ConfigureAwait(false);
            return false;
        }

        if (confirmShutdown)
        {
            confirmShutdown = false;
            if (key.KeyChar is 'y' or 'Y' && SelectedWorker() is { } target)
            {
                await SendAsync("shutdown", [], target, reply: false).ConfigureAwait(false);
                Say($"shutdown sent to {target}");
            }
            else
            {
                Say("shutdown cancelled");
            }

            return false;
        }

        switch (key.Key)
        {
            case ConsoleKey.UpArrow:
                Move(ref selectedTask, -1);
                return false;
            case ConsoleKey.DownArrow:
                Move(ref selectedTask, +1);
                return false;
            case ConsoleKey.LeftArrow:
                Move(ref selectedWorker, -1);
                return false;
            case ConsoleKey.RightArrow:
                Move(ref selectedWorker, +1);
                return false;
        }

        switch (key.KeyChar)
        {
            case 'q' or 'Q':
                return true;
            case 'r' or 't' when SelectedTask() is { } task:
                var terminate = key.KeyChar == 't';
                await SendAsync("revoke", new JsonObject { ["task_id"] = new JsonArray(task.Uuid), ["terminate"] = terminate, ["signal"] = "SIGTERM" }, null).ConfigureAwait(false);
                break;
            case 'l' when SelectedTask() is { Name: not null }:
                input = "";
                Say("rate limit (e.g. 10/m, empty for none), Enter to send, Esc to cancel: ");
                break;
            case '+' or '-' when SelectedWorker() is { } worker:
                await SendAsync(key.KeyChar == '+' ? "pool_grow" : "pool_shrink", new JsonObject { ["n"] = 1 }, worker).ConfigureAwait(false);
                break;
            case 's' when SelectedWorker() is { } worker:
                confirmShutdown = true;
                Say($"shut down {worker}? press y to confirm");
                break;
        }

        return false;
    }

    private async Task EditRateLimitAsync(ConsoleKeyInfo key)
    {
        switch (key.Key)
        {
            case ConsoleKey.Escape:
                input = null;
                Say("rate limit cancelled");
                return;
            case ConsoleKey.Enter:
                var limit = input!;
                input = null;
                if (SelectedTask()?.Name is { } name)
                {
                    await SendAsync("rate_limit", new JsonObject { ["task_name"] = name, ["rate_limit"] = limit.Length == 0 ? null : limit }, null).ConfigureAwait(false);
                }

                return;
            case ConsoleKey.Backspace when input!.Length > 0:
                input = input[..^1];
                break;
            default:
                if (!char.IsControl(key.KeyChar))
                {
                    input += key.KeyChar;
                }

                break;
        }

        Say($"rate limit (e.g. 10/m, empty for none), Enter to send, Esc to cancel: {input}");
    }

    private async Task SendAsync(string command, JsonObject arguments, string? target, bool reply = true)
    {
        Say($"{command}: waiting for replies…");
        try
        {
            var replies = await node.Control.BroadcastAsync(
                command, arguments, target is null ? null : ControlTarget.Nodes(target), reply, ReplyTimeout).ConfigureAwait(false);
            Say(replies.Count == 0
                ? $"{command}: no reply"
                : $"{command}: " + string.Join("; ", replies.Select(r => $"{r.Node}: {r.Value?.ToJsonString()}")));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Say($"{command} failed: {e.Message}");
        }
    }

    private void Say(string text)
    {
        lock (gate)
        {
            status = text;
        }
    }

    private void Move(ref int index, int by) => index = Math.Max(0, index + by);

    private TaskView? SelectedTask()
    {
        var tasks = node.State.Tasks(limit: TaskRows);
        return tasks.Count == 0 ? null : tasks[Math.Min(selectedTask, tasks.Count - 1)];
    }

    private string? SelectedWorker()
    {
        var workers = node.State.Workers();
        return workers.Count == 0 ? null : workers[Math.Min(selectedWorker, workers.Count - 1)].Hostname;
    }

    private IRenderable Render()
    {
        var workers = node.State.Workers();
        var tasks = node.State.Tasks(limit: TaskRows);
        var chosenWorker = Math.Min(selectedWorker, Math.Max(0, workers.Count - 1));
        var chosenTask = Math.Min(selectedTask, Math.Max(0, tasks.Count - 1));

        var workerTable = new Table().Expand().Title($"Workers ({workers.Count(w => w.Alive)} alive)")
            .AddColumns("", "Worker", "Alive", "Active", "Processed", "Load");
        for (var i = 0; i < workers.Count; i++)
        {
            var w = workers[i];
            workerTable.AddRow(
                i == chosenWorker ? ">" : "",
                Markup.Escape(w.Hostname),
                w.Alive ? "[green]ONLINE[/]" : "[red]OFFLINE[/]",
                w.Active?.ToString() ?? "",
                w.Processed?.ToString() ?? "",
                w.Loadavg is { } load ? string.Join(" ", load) : "");
        }

        var taskTable = new Table().Expand().Title($"Tasks (latest {tasks.Count}, {node.State.EventCount} events)")
            .AddColumns("", "UUID", "Name", "State", "Worker", "Args", "Result");
        for (var i = 0; i < tasks.Count; i++)
        {
            var t = tasks[i];
            taskTable.AddRow(
                i == chosenTask ? ">" : "",
                Markup.Escape(t.Uuid),
                Markup.Escape(t.Name ?? ""),
                StateMarkup(t.State),
                Markup.Escape(t.Worker ?? ""),
                Markup.Escape(Cut(t.Args, 30)),
                Markup.Escape(Cut(t.Result ?? t.Exception, 30)));
        }

        string line;
        lock (gate)
        {
            line = status;
        }

        return new Rows(workerTable, taskTable, new Markup(Markup.Escape(line)));
    }

    private static string StateMarkup(string state) => state switch
    {
        "SUCCESS" => "[green]SUCCESS[/]",
        "FAILURE" => "[red]FAILURE[/]",
        "STARTED" => "[blue]STARTED[/]",
        "REVOKED" => "[yellow]REVOKED[/]",
        _ => Markup.Escape(state),
    };

    private static string Cut(string? text, int length) => text is null ? "" : text.Length <= length ? text : text[..(length - 1)] + "…";
}
