using ClusterQueue.Client;
using ClusterQueue.Fabric;
using ClusterQueue.Fabric.ClusterPlane;
using ClusterQueue.Fabric.Events;
using ClusterQueue.Monitor.Http;
using ClusterQueue.Monitor.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Tests.Monitor;

/// <summary>The .NET client of the event stream: filters, and a subscription that outlives a restart of the monitor's HTTP server.</summary>
public sealed class MonitorClientTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_subscription_reconnects_after_the_server_restarts_and_resumes_with_what_it_missed()
    {
        await using var node = await MonitorNode.StartAsync(
            new MonitorSettings { StateDb = "" }, new ClusterSettings(), ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        var first = await MonitorApi.StartAsync(node, new MonitorSettings { Listen = "127.0.0.1:0" }, NullLoggerFactory.Instance);
        var address = new Uri(first.Urls.First());
        using var client = new MonitorClient(address);
        await using var events = client.SubscribeAsync(new MonitorSubscription(Types: ["task-started"])).GetAsyncEnumerator();
        var next = events.MoveNextAsync().AsTask();
        await WhenSubscribedAsync(node);

        node.Ingest(new TaskReceivedEvent("t1", "tasks.add", "()", "{}") { Hostname = "w@a" });
        node.Ingest(new TaskStartedEvent("t1") { Hostname = "w@a" });
        Assert.True(await next.WaitAsync(Patience));
        Assert.Equal("t1", ((TaskStartedEvent)events.Current.Event).Uuid);

        await first.StopAsync();
        await first.DisposeAsync();
        next = events.MoveNextAsync().AsTask();
        node.Ingest(new TaskStartedEvent("t2") { Hostname = "w@a" });
        await using var second = await MonitorApi.StartAsync(node, new MonitorSettings { Listen = $"127.0.0.1:{address.Port}" }, NullLoggerFactory.Instance);

        Assert.True(await next.WaitAsync(Patience));
        Assert.Equal("t2", ((TaskStartedEvent)events.Current.Event).Uuid);
        Assert.True(client.Reconnects >= 1);
    }

    [Fact]
    public async Task A_wrong_token_ends_the_subscription_with_the_reason_instead_of_retrying()
    {
        await using var node = await MonitorNode.StartAsync(
            new MonitorSettings { StateDb = "" }, new ClusterSettings(), ClusterQueue.Config.AkkaConfiguration.Reference, new ControlSettings(), NullLoggerFactory.Instance);
        await using var api = await MonitorApi.StartAsync(node, new MonitorSettings { Listen = "127.0.0.1:0", Token = "right" }, NullLoggerFactory.Instance);
        using var client = new MonitorClient(new Uri(api.Urls.First()), token: "wrong");

        var error = await Assert.ThrowsAsync<HttpRequestException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync().WithCancellation(new CancellationTokenSource(Patience).Token))
            {
            }
        });

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("wrong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_answers_without_an_event_stream_is_named_instead_of_retried()
    {
        using var client = new MonitorClient(new Uri("http://127.0.0.1:1"), handler: new HtmlPage());

        var error = await Assert.ThrowsAsync<HttpRequestException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync().WithCancellation(new CancellationTokenSource(Patience).Token))
            {
            }
        });

        Assert.Contains("content type text/html, not an event stream", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, client.Reconnects);
    }

    /// <summary>Some other web server: 200 with a page.</summary>
    private sealed class HtmlPage : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new StringContent("<html></html>", System.Text.Encoding.UTF8, "text/html"),
            });
    }

    private static async Task WhenSubscribedAsync(MonitorNode node)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (node.Hub.SubscriberCount == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the client never subscribed");
            await Task.Delay(10);
        }
    }
}
