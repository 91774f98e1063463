using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric.Events;

namespace ClusterQueue.Client;

/// <summary>What to subscribe to on a monitor: event types (a trailing <c>-</c> is a prefix), a task name, a worker.</summary>
public sealed record MonitorSubscription(IReadOnlyList<string>? Types = null, string? TaskName = null, string? Worker = null);

/// <summary>An event from a monitor's stream with its number, which a resumed subscription continues after.</summary>
public sealed record StreamedEvent(long Id, ClusterEvent Event);

/// <summary>
/// A client of a monitor's HTTP API: <c>await foreach (var e in monitor.SubscribeAsync(filter))</c> follows the
/// server-sent event stream, reconnecting after a dropped connection and resuming after the last event it saw.
/// </summary>
public sealed class MonitorClient : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(5);
    private readonly HttpClient http;

    /// <param name="baseAddress">The monitor, e.g. <c>http://10.0.0.9:5555</c>.</param>
    /// <param name="token">The monitor's bearer token, when it has one.</param>
    /// <param name="handler">The HTTP handler to send through (proxies, certificates); the default one when null.</param>
    public MonitorClient(Uri baseAddress, string? token = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = baseAddress;
        http.Timeout = Timeout.InfiniteTimeSpan;
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Times the stream was opened again after a dropped connection or a close for falling behind.</summary>
    public int Reconnects { get; private set; }

    /// <summary>
    /// Events from now on (or after <paramref name="afterId"/>), matching <paramref name="filter"/>, until cancelled.
    /// A 401 or 400, or an answer that is no event stream, ends the enumeration with <see cref="HttpRequestException"/>:
    /// retrying would not help.
    /// </summary>
    public async IAsyncEnumerable<StreamedEvent> SubscribeAsync(
        MonitorSubscription? filter = null, long afterId = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = PathOf(filter ?? new MonitorSubscription());
        var last = afterId;
        var backoff = FirstBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (last > 0)
            {
                request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            HttpResponseMessage? response = null;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (!cancellationToken.IsCancellationRequested)
            {
                // The monitor is restarting or out of reach: try again.
            }

            if (response is { StatusCode: System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.BadRequest })
            {
                var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                response.Dispose();
                throw new HttpRequestException($"the monitor refused the event stream ({(int)response.StatusCode}): {detail}", null, response.StatusCode);
            }

            if (response is { IsSuccessStatusCode: true } && response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                var type = response.Content.Headers.ContentType?.MediaType ?? "none";
                response.Dispose();
                throw new HttpRequestException($"{http.BaseAddress} answered {path} with content type {type}, not an event stream: is it a ClusterQueue monitor?");
            }

            if (response is { IsSuccessStatusCode: true })
            {
                using (response)
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    using var reader = new StreamReader(stream);
                    await foreach (var evt in ReadAsync(reader, cancellationToken).ConfigureAwait(false))
                    {
                        backoff = FirstBackoff;
                        last = evt.Id;
                        yield return evt;
                    }
                }
            }
            else
            {
                response?.Dispose();
            }

            if (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            Reconnects++;
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
        }
    }

    public void Dispose() => http.Dispose();

    private static string PathOf(MonitorSubscription filter)
    {
        var query = new List<string>();
        query.AddRange((filter.Types ?? []).Select(t => "type=" + Uri.EscapeDataString(t)));
        if (filter.TaskName is { } name) query.Add("task=" + Uri.EscapeDataString(name));
        if (filter.Worker is { } worker) query.Add("worker=" + Uri.EscapeDataString(worker));
        return "/api/events" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
    }

    /// <summary>Parses server-sent events; a connection that ends or a read that fails ends this connection's events.</summary>
    private static async IAsyncEnumerable<StreamedEvent> ReadAsync(StreamReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? id = null, type = null, data = null;
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            if (line is null)
            {
                yield break;
            }

            if (line.Length > 0)
            {
                if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
                continue;
            }

            if (data is not null && type is not ("close" or "gap") && long.TryParse(id, out var number)
                && JsonNode.Parse(data) is JsonObject json)
            {
                yield return new StreamedEvent(number, EventCodec.Decode(json));
            }

            (id, type, data) = (null, null, null);
        }
    }
}
