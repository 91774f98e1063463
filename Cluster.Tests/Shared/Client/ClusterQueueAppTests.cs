using System.Text.Json.Nodes;
using ClusterQueue.Client;
using ClusterQueue.Config;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Tests.Protocol;
using ClusterQueue.Transport;

namespace ClusterQueue.Tests.Client;

public sealed class ClusterQueueAppTests : IAsyncLifetime
{
    private ClusterQueueApp _app = null!;

    public Task InitializeAsync()
    {
        _app = ClusterQueueApp.Open(
            new BrokerSettings { Url = $"memory://{Guid.NewGuid():N}" },
            new ResultSettings { Backend = "memory://" },
            new PublishSettings { Routes = [new TaskRoute { Task = "tasks.slow*", Queue = "slow" }] });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<(Delivery Delivery, TaskMessage Message)> ReceiveOneAsync(string queue)
    {
        await using var consumer = await _app.Transport.ConsumeAsync(queue, new ConsumeOptions(Prefetch: 1));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var delivery = await consumer.Deliveries.ReadAsync(timeout.Token);
        await consumer.AckAsync(delivery);
        return (delivery, _app.Codec.Decode(delivery.Message));
    }

    [Fact]
    public async Task SendTask_publishes_a_celery_message_to_the_default_queue_through_the_default_exchange()
    {
        var result = await _app.SendTaskAsync("tasks.add", [2, 2], new JsonObject { ["z"] = 1 });

        var (delivery, message) = await ReceiveOneAsync("celery");
        Assert.Equal("", delivery.Exchange);
        Assert.Equal("celery", delivery.RoutingKey);
        Assert.Equal(result.Id, message.Id);
        Assert.Equal("tasks.add", message.Task);
        Assert.Equal(result.Id, message.RootId);
        Assert.Equal(result.Id, delivery.Message.Properties.CorrelationId);
        Assert.Equal(2, delivery.Message.Properties.DeliveryMode);
        Assert.Equal("(2, 2)", delivery.Message.Headers["argsrepr"]);
        Assert.Equal("{'z': 1}", delivery.Message.Headers["kwargsrepr"]);
    }

    [Fact]
    public async Task Routes_pick_the_queue_and_an_explicit_queue_wins()
    {
        await _app.SendTaskAsync("tasks.slow_report");
        Assert.Equal("tasks.slow_report", (await ReceiveOneAsync("slow")).Message.Task);

        await _app.SendTaskAsync("tasks.slow_report", options: new SendOptions { Queue = "urgent" });
        Assert.Equal("tasks.slow_report", (await ReceiveOneAsync("urgent")).Message.Task);
    }

    [Fact]
    public async Task Countdown_sets_the_eta_and_delays_delivery_and_expires_sets_the_ttl()
    {
        var before = DateTimeOffset.UtcNow;
        await _app.SendTaskAsync("tasks.add", [1, 1], options: new SendOptions { Countdown = TimeSpan.FromMilliseconds(300), ExpiresIn = TimeSpan.FromSeconds(60) });

        var (delivery, message) = await ReceiveOneAsync("celery");
        var received = DateTimeOffset.UtcNow;
        Assert.InRange(message.Eta!.Value, before.AddMilliseconds(299), before.AddSeconds(30));
        Assert.True(received >= message.Eta.Value.AddMilliseconds(-5), "the broker held the message until its eta");
        Assert.Equal("60000", delivery.Message.Properties.Expiration);
        Assert.NotNull(message.Expires);
    }

    [Fact]
    public async Task Typed_apply_serializes_arguments_and_options_reach_the_message()
    {
        var result = await _app.ApplyAsync(
            "tasks.xsum",
            [new[] { 1.5, 2.5 }],
            new Dictionary<string, object?> { ["label"] = "sum" },
            new SendOptions { TaskId = "fixed-id", Priority = 7, IgnoreResult = true, TimeLimit = TimeSpan.FromSeconds(30), SoftTimeLimit = TimeSpan.FromSeconds(20), Headers = new Dictionary<string, object?> { ["tenant"] = "acme" } });

        var (delivery, message) = await ReceiveOneAsync("celery");
        Assert.Equal("fixed-id", result.Id);
        Assert.Equal("[[1.5,2.5]]", message.Args.ToJsonString());
        Assert.Equal("sum", (string)message.Kwargs["label"]!);
        Assert.Equal((byte)7, delivery.Message.Properties.Priority);
        Assert.True(message.IgnoreResult);
        Assert.Equal(new TimeLimits(30, 20), message.TimeLimit);
        Assert.Equal("acme", delivery.Message.Headers["tenant"]);
    }

    [Fact]
    public async Task A_stored_result_is_read_through_the_async_result()
    {
        var result = await _app.SendTaskAsync("tasks.add", [2, 2]);
        await _app.Results.StoreAsync(TaskResult.Succeeded(result.Id, 4));
        Assert.Equal(4, (int)(await result.GetAsync(TimeSpan.FromSeconds(30)))!);
    }

    [Fact]
    public async Task Without_a_result_backend_sending_works_and_reading_is_a_clear_error()
    {
        await using var app = new ClusterQueueApp(TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" }));
        var result = await app.SendTaskAsync("tasks.noop");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => result.GetAsync(TimeSpan.FromSeconds(1)));
        Assert.Contains("cluster-queue.result.backend", error.Message);
    }
}

public sealed class PublishSettingsBindingTests
{
    [Fact]
    public void Routes_bind_from_configuration_in_the_order_written()
    {
        var text = "cluster-queue.publish.routes = [{ task = \"tasks.add\", queue = math }, { task = \"tasks.*\", queue = general }, { task = \"re:a|b\", queue = ab }]";
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddHoconString(ClusterQueue.Config.ClusterQueueConfiguration.ReferenceText(), "reference.conf")
            .AddHoconString(text, "test.conf")
            .Build();
        var settings = configuration.GetSettings<PublishSettings>("publish");
        Assert.Equal(["tasks.add", "tasks.*", "re:a|b"], settings.Routes.Select(r => r.Task));
        Assert.Equal(["math", "general", "ab"], settings.Routes.Select(r => r.Queue));
        Assert.Equal(3, settings.RetryPolicy.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(200), settings.RetryPolicy.IntervalStep);
    }

    [Fact]
    public async Task Serializer_compression_and_accept_content_bind_and_reach_the_codec()
    {
        var text = "cluster-queue.publish { serializer = msgpack, compression = bzip2, accept-content = [json, msgpack, yaml] }";
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddHoconString(ClusterQueue.Config.ClusterQueueConfiguration.ReferenceText(), "reference.conf")
            .AddHoconString(text, "test.conf")
            .Build();
        var settings = configuration.GetSettings<PublishSettings>("publish");
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        await using var app = new ClusterQueueApp(transport, settings: settings);

        var envelope = app.Codec.Encode(new TaskMessage { Task = "t", Id = "i" });

        Assert.Equal("msgpack", settings.Serializer);
        Assert.Equal(BodySerializers.Msgpack, envelope.Properties.ContentType);
        Assert.Equal(BodyCompression.Bzip2, envelope.Headers["compression"]);
        Assert.Equal(["application/json", "application/x-msgpack", "application/x-yaml"], app.Codec.Options.Accept.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Security_settings_bind_and_the_codec_signs_with_them()
    {
        using var keys = SigningKeys.Create();
        var text = $$"""
            cluster-queue.publish {
              serializer = auth
              accept-content = [auth]
              security { key-file = "{{keys.KeyFile}}", certificate-file = "{{keys.CertificateFile}}", cert-store = "{{keys.StoreDirectory}}/*.pem", digest = sha384 }
            }
            """;
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddHoconString(ClusterQueue.Config.ClusterQueueConfiguration.ReferenceText(), "reference.conf")
            .AddHoconString(text, "test.conf")
            .Build();
        var settings = configuration.GetSettings<PublishSettings>("publish");
        settings.Validate();
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });
        await using var app = new ClusterQueueApp(transport, settings: settings);

        var envelope = app.Codec.Encode(new TaskMessage { Task = "t", Id = "i" });

        Assert.Equal(keys.Settings(store: keys.StoreDirectory + "/*.pem", digest: "sha384"), settings.Security);
        Assert.Equal(BodySerializers.Auth, envelope.Properties.ContentType);
        Assert.Equal("t", app.Codec.Decode(envelope).Task);
        Assert.Equal([BodySerializers.Auth], app.Codec.Options.Accept);
        Assert.Throws<MessageSignatureException>(() => new TaskMessageCodec(app.Codec.Options with { Signing = keys.Load() }).Decode(envelope));
    }

    [Theory]
    [InlineData("pickle", "json")]
    [InlineData("json", "pickle")]
    public async Task Pickle_as_serializer_or_in_accept_content_fails_when_the_app_is_made(string serializer, string accepted)
    {
        await using var transport = TransportRegistry.CreateDefault().Open(new BrokerSettings { Url = "memory://" });

        var error = Assert.Throws<ArgumentException>(() =>
            new ClusterQueueApp(transport, settings: new PublishSettings { Serializer = serializer, AcceptContent = ["json", accepted] }));

        Assert.Contains("pickle", error.Message);
    }
}
