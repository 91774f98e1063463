using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ClusterQueue.Fabric;
using ClusterQueue.Client;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Http;
using ClusterQueue.Monitor.Node;
using ClusterQueue.Results;
using ClusterQueue.Tests.Node.Fabric;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Monitor;

/// <summary>A monitor node in the cluster of a real worker node: state over HTTP, the event stream, remote control, the token.</summary>
public sealed class MonitorApiTests : IAsyncLifetime
{
    private const string Token = "s3cret-token";
    private readonly ClusterKit kit = ClusterKit.Create(ClusterBroker.Memory);
    private readonly HttpClient http = new() { Timeout = ClusterKit.Patience };
    private MonitorNode? monitor;
    private WebApplication? api;
    private ClusterQueue.Client.ClusterQueueApp? app;

    private MonitorNode Monitor => monitor!;

    public async Task InitializeAsync()
    {
        app = kit.App();
        await kit.StartAsync(kit.Settings("w1@mon") with { SendTaskEvents = true }, app);
        var cluster = new ClusterSettings { Seeds = [kit.Seed!] };
        var settings = new MonitorSettings { Listen = "127.0.0.1:0", Token = Token };
        monitor = await MonitorNode.StartAsync(settings, cluster, ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        api = await MonitorApi.StartAsync(monitor, settings, NullLoggerFactory.Instance);
        http.BaseAddress = new Uri(api.Urls.First());
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        if (api is not null) await api.DisposeAsync();
        if (monitor is not null) await monitor.DisposeAsync();
        await kit.DisposeAsync();
    }

    [Fact]
    public async Task A_task_run_by_a_worker_shows_as_SUCCESS_and_the_worker_as_alive_by_cluster_membership()
    {
        var app = this.app!;
        var sent = await WhenTopicReachesMonitorAsync(app, "tasks.add", [2, 2]);

        var task = await EventuallyJsonAsync($"/api/tasks/{sent}", t => t?["state"]?.GetValue<string>() == TaskStates.Success);
        var workers = (await GetJsonAsync("/api/workers"))!.AsArray();
        var types = (await GetJsonAsync("/api/types"))!.AsArray();

        Assert.Equal("tasks.add", task!["name"]!.GetValue<string>());
        Assert.Equal("4", task["result"]!.GetValue<string>());
        Assert.Equal("w1@mon", task["worker"]!.GetValue<string>());
        var w1 = Assert.Single(workers, w => w!["hostname"]!.GetValue<string>() == "w1@mon")!;
        Assert.True(w1["alive"]!.GetValue<bool>());
        Assert.Equal("cluster", w1["aliveBy"]!.GetValue<string>());
        Assert.Contains(types, t => t!["name"]!.GetValue<string>() == "tasks.add");
    }

    [Fact]
    public async Task The_event_stream_filters_by_type_and_task_and_resumes_after_the_last_event_id()
    {
        var app = this.app!;
        await WhenTopicReachesMonitorAsync(app, "tasks.add", [0, 0]);
        using var client = new MonitorClient(http.BaseAddress!, Token);
        var filter = new MonitorSubscription(Types: ["task-succeeded"], TaskName: "tasks.add");
        await using var stream = client.SubscribeAsync(filter).GetAsyncEnumerator();
        var next = stream.MoveNextAsync().AsTask();
        await ClusterKit.EventuallyAsync(() => Monitor.Hub.SubscriberCount == 1, "the client to subscribe");

        var first = await app.ApplyAsync("tasks.mul", [3, 3]);
        var second = await app.ApplyAsync("tasks.add", [1, 1]);
        // A probe sent before the subscription had gossiped may still trail in; the stream must show only succeeded adds.
        var seen = new List<StreamedEvent>();
        while (true)
        {
            Assert.True(await next.WaitAsync(ClusterKit.Patience));
            seen.Add(stream.Current);
            if (stream.Current.Event is TaskEvent { Uuid: var uuid } && uuid == second.Id) break;
            next = stream.MoveNextAsync().AsTask();
        }

        Assert.All(seen, e => Assert.IsType<TaskSucceededEvent>(e.Event));
        Assert.DoesNotContain(seen, e => ((TaskEvent)e.Event).Uuid == first.Id);
        Assert.NotNull(await app.Results.WaitAsync(first.Id, ClusterKit.Patience));

        var third = await app.ApplyAsync("tasks.add", [5, 5]);
        await app.Results.WaitAsync(third.Id, ClusterKit.Patience);
        await using var resumed = client.SubscribeAsync(filter, afterId: seen[^1].Id).GetAsyncEnumerator();
        Assert.True(await resumed.MoveNextAsync().AsTask().WaitAsync(ClusterKit.Patience));
        Assert.Equal(third.Id, ((TaskEvent)resumed.Current.Event).Uuid);
        Assert.True(resumed.Current.Id > seen[^1].Id);
    }

    [Fact]
    public async Task Every_endpoint_but_health_answers_401_without_the_token()
    {
        using var anonymous = new HttpClient { BaseAddress = http.BaseAddress };

        var health = await anonymous.GetAsync("/health");
        var tasks = await anonymous.GetAsync("/api/tasks");
        var events = await anonymous.GetAsync("/api/events");
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/control/ping") { Headers = { Authorization = new("Bearer", "nope") } };
        var control = await anonymous.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tasks.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, events.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, control.StatusCode);
        Assert.Contains("wrong", await control.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Bearer", tasks.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_control_command_from_the_api_reaches_the_worker_and_its_reply_comes_back()
    {
        await ClusterKit.EventuallyAsync(() => PostAsync("ping", "{\"timeout\": 1}").GetAwaiter().GetResult().AsArray().Count == 1, "the worker to answer a ping from the monitor");

        var replies = (await PostAsync("rate_limit", "{\"arguments\": {\"task_name\": \"tasks.add\", \"rate_limit\": \"9/m\"}, \"destination\": [\"w1@mon\"]}")).AsArray();
        var unknown = await http.PostAsync("/api/control/drop_tables", null);
        var badDestination = await http.PostAsync("/api/control/ping", new StringContent("{\"destination\": [1]}", Encoding.UTF8, "application/json"));
        var badTimeout = await http.PostAsync("/api/control/ping", new StringContent("{\"timeout\": 600}", Encoding.UTF8, "application/json"));
        var notJson = await http.PostAsync("/api/control/ping", new StringContent("ping!", Encoding.UTF8, "application/json"));

        var reply = Assert.Single(replies)!;
        Assert.Equal("w1@mon", reply["node"]!.GetValue<string>());
        Assert.True(reply["reply"]!.ToJsonString().Contains("new rate limit set successfully", StringComparison.Ordinal), reply.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("unknown command 'drop_tables'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badDestination.StatusCode);
        Assert.Contains("destination must be a list of node names", await badDestination.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badTimeout.StatusCode);
        Assert.Contains("at most 60, got 600", await badTimeout.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("not a JSON object", await notJson.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Sends until a task's events reach the monitor: until pub-sub gossip has carried the monitor's subscription to the
    /// worker, the worker's events are dropped, as Celery's are with nobody listening.
    /// </summary>
    private async Task<string> WhenTopicReachesMonitorAsync(ClusterQueue.Client.ClusterQueueApp app, string task, object?[] args)
    {
        var deadline = DateTime.UtcNow + ClusterKit.Patience;
        while (true)
        {
            var sent = await app.ApplyAsync(task, args);
            await app.Results.WaitAsync(sent.Id, ClusterKit.Patience);
            for (var i = 0; i < 20 && Monitor.State.Task(sent.Id)?.State != TaskStates.Success; i++)
            {
                await Task.Delay(50);
            }

            if (Monitor.State.Task(sent.Id)?.State == TaskStates.Success) return sent.Id;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no task event reached the monitor");
        }
    }

    private async Task<JsonNode?> GetJsonAsync(string path) => JsonNode.Parse(await http.GetStringAsync(path));

    private async Task<JsonNode?> EventuallyJsonAsync(string path, Func<JsonNode?, bool> done)
    {
        var deadline = DateTime.UtcNow + ClusterKit.Patience;
        while (true)
        {
            var response = await http.GetAsync(path);
            var json = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            if (done(json)) return json;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not get there: {json?.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    private async Task<JsonNode> PostAsync(string command, string body)
    {
        var response = await http.PostAsync($"/api/control/{command}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
