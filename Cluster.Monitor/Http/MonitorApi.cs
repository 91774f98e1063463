using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Control;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Monitor.Stream;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ClusterQueue.Monitor.Http;

/// <summary>
/// The monitor's HTTP server on Kestrel: state as JSON, the event stream as server-sent events, remote control, and
/// the dashboard's static files. Every endpoint but <c>/health</c> wants the bearer token when one is configured;
/// without one the server listens on loopback only.
/// </summary>
public static class MonitorApi
{
    /// <summary>Commands the API sends; anything else is refused before it reaches a node.</summary>
    public static readonly IReadOnlySet<string> Commands = new HashSet<string>(StringComparer.Ordinal)
    {
        "ping", "revoke", "rate_limit", "time_limit", "pool_grow", "pool_shrink", "autoscale", "shutdown",
        "add_consumer", "cancel_consumer", "enable_events", "disable_events",
        "stats", "active", "reserved", "scheduled", "registered", "active_queues", "query_task", "revoked", "conf", "clock", "members",
    };

    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    // Relaxed escaping: error messages quote names with ', which the default encoder writes as \u0027.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Starts listening on <see cref="MonitorSettings.Listen"/>; the returned app stops with <c>StopAsync</c>.</summary>
    public static async Task<WebApplication> StartAsync(MonitorNode node, MonitorSettings settings, ILoggerFactory logging, CancellationToken cancellationToken = default)
    {
        var endpoint = settings.ListenEndpoint();
        var log = logging.CreateLogger("ClusterQueue.Monitor.Http");
        if (settings.Token.Length == 0 && !IPAddress.IsLoopback(endpoint.Address))
        {
            log.LogWarning("No cluster-queue.monitor.token is set, so the API listens on loopback only instead of {Address}", endpoint.Address);
            endpoint = new IPEndPoint(endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, endpoint.Port);
        }
        else if (settings.Token.Length == 0)
        {
            log.LogInformation("No cluster-queue.monitor.token is set: the API is open to this host only");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { WebRootPath = DashboardRoot() });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(logging);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        var app = builder.Build();
        app.Use((context, next) => Authorize(context, next, settings.Token));
        Map(app, node);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        log.LogInformation("Monitor API on {Urls}", string.Join(", ", app.Urls));
        return app;
    }

    /// <summary>The folder of the dashboard's static files, next to the executable.</summary>
    public static string DashboardRoot() => Path.Combine(AppContext.BaseDirectory, "dashboard");

    private static void Map(WebApplication app, MonitorNode node)
    {
        app.MapGet("/health", () => TypedResults.Json(new { status = "ok", events = node.State.EventCount, subscribers = node.Hub.SubscriberCount }, Json));
        app.MapGet("/api/workers", () => TypedResults.Json(node.State.Workers(), Json));
        app.MapGet("/api/types", () => TypedResults.Json(node.State.TaskTypes(), Json));
        app.MapGet("/api/tasks", (string? state, string? name, int? limit) =>
            limit is < 1 or > 10_000
                ? Problem(400, $"limit must be 1 to 10000, got {limit}")
                : TypedResults.Json(node.State.Tasks(state, name, limit ?? 100), Json));
        app.MapGet("/api/tasks/{id}", (string id) => node.State.Task(id) is { } task ? TypedResults.Json(task, Json) : Problem(404, $"no task {id} is known"));
        app.MapGet("/api/events", (HttpContext context) => StreamAsync(context, node.Hub));
        app.MapPost("/api/control/{command}", (string command, HttpContext context) => ControlAsync(command, context, node.Control));
    }

    private static async Task Authorize(HttpContext context, RequestDelegate next, string token)
    {
        if (token.Length == 0 || context.Request.Path == "/health")
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Problem(401, given.Length == 0 ? "this endpoint needs Authorization: Bearer <token>" : "the bearer token is wrong").ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// Server-sent events: <c>id</c> is the event's number, <c>event</c> its type, <c>data</c> Celery's JSON. Filters:
    /// <c>type</c> (repeatable, a trailing <c>-</c> is a prefix), <c>task</c> (name), <c>worker</c>. <c>Last-Event-ID</c>
    /// (or <c>?after=</c>) resumes from the buffer. A client that falls behind gets a <c>close</c> event with the reason.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, EventHub hub)
    {
        var query = context.Request.Query;
        var filter = new EventFilter(
            query["type"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).ToList(),
            query["task"].FirstOrDefault(),
            query["worker"].FirstOrDefault());
        var resume = context.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? query["after"].FirstOrDefault();
        long after = 0;
        if (resume is not null && !long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            await Problem(400, $"Last-Event-ID must be an event number, got '{resume}'").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        using var subscription = hub.Subscribe(filter, after);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        // A stopping server ends its streams at once, so that clients reconnect (and resume) instead of hanging on.
        var stopping = context.RequestServices.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var aborted = ended.Token;
        var writer = new StringBuilder();
        if (subscription.Missed > 0)
        {
            writer.Append("event: gap\ndata: {\"missed\":").Append(subscription.Missed).Append("}\n\n");
        }
        else
        {
            writer.Append(": connected\n\n");
        }

        await response.WriteAsync(writer.ToString(), aborted).ConfigureAwait(false);
        await response.Body.FlushAsync(aborted).ConfigureAwait(false);
        try
        {
            var reader = subscription.Events;
            while (true)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                idle.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted).ConfigureAwait(false);
                    await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }

                if (!more)
                {
                    break;
                }

                writer.Clear();
                while (reader.TryRead(out var evt))
                {
                    writer.Append("id: ").Append(evt.Id).Append("\nevent: ").Append(evt.Event.Type)
                        .Append("\ndata: ").Append(evt.Event.ToJson().ToJsonString()).Append("\n\n");
                }

                await response.WriteAsync(writer.ToString(), aborted).ConfigureAwait(false);
                await response.Body.FlushAsync(aborted).ConfigureAwait(false);
            }

            if (subscription.CloseReason is { } reason)
            {
                var close = new JsonObject { ["reason"] = reason, ["last_event_id"] = subscription.LastDelivered };
                await response.WriteAsync($"event: close\ndata: {close.ToJsonString()}\n\n", aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away, or the server is stopping.
        }
    }

    /// <summary>
    /// <c>POST /api/control/{command}</c> with an optional JSON body <c>{"arguments": {...}, "destination": [...],
    /// "timeout": seconds}</c>; answers the replies as <c>[{"node", "reply"}]</c>.
    /// </summary>
    private static async Task<IResult> ControlAsync(string command, HttpContext context, IControlCarrier control)
    {
        if (!Commands.Contains(command))
        {
            return Problem(400, $"unknown command '{command}'; known: {string.Join(", ", Commands.Order(StringComparer.Ordinal))}");
        }

        JsonObject body;
        try
        {
            body = context.Request.ContentLength is 0 or null && !context.Request.Headers.ContainsKey("Transfer-Encoding")
                ? []
                : (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false)) as JsonObject
                    ?? throw new JsonException("the body must be a JSON object");
        }
        catch (JsonException e)
        {
            return Problem(400, $"the request body is not a JSON object: {e.Message}");
        }

        if (body["arguments"] is not (null or JsonObject) || body["destination"] is not (null or JsonArray) || body["timeout"] is not (null or JsonValue))
        {
            return Problem(400, "the body takes arguments (an object), destination (a list of node names) and timeout (seconds)");
        }

        var names = (body["destination"] as JsonArray ?? []).Select(n => n is JsonValue v && v.TryGetValue<string>(out var name) && name.Length > 0 ? name : null).ToList();
        if (names.Contains(null))
        {
            return Problem(400, "destination must be a list of node names (non-empty strings)");
        }

        TimeSpan? timeout = null;
        if (body["timeout"] is JsonValue seconds)
        {
            if (!seconds.TryGetValue<double>(out var s) || s is <= 0 or > 60)
            {
                return Problem(400, $"timeout must be a number of seconds above 0 and at most 60, got {seconds.ToJsonString()}");
            }

            timeout = TimeSpan.FromSeconds(s);
        }

        var arguments = body["arguments"] is JsonObject given
            ? (JsonObject)given.DeepClone()
            : ControlCommands.InspectArguments(command);
        var destination = names.Select(n => n!).ToArray();
        var reply = command != "shutdown";
        var replies = await control.BroadcastAsync(
            command, arguments, destination is { Length: > 0 } ? ControlTarget.Nodes(destination) : null, reply, timeout, cancellationToken: context.RequestAborted)
            .ConfigureAwait(false);
        var answer = new JsonArray([.. replies.Select(r => (JsonNode)new JsonObject { ["node"] = r.Node, ["reply"] = r.Value?.DeepClone() })]);
        return TypedResults.Text(answer.ToJsonString(), "application/json");
    }

    private static IResult Problem(int status, string detail) => TypedResults.Json(new { status, error = detail }, Json, statusCode: status);
}
