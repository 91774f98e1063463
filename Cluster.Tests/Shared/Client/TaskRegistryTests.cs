using System.Text.Json.Nodes;
using ClusterQueue.Client;

namespace ClusterQueue.Tests.Client;

public sealed class TaskRegistryTests
{
    private static class Samples
    {
        [CeleryTask("samples.add", RateLimit = "10/s", MaxRetries = 5)]
        public static int Add(int x, int y) => x + y;

        [CeleryTask("samples.greet")]
        public static string Greet(string name, string greeting = "hello") => $"{greeting} {name}";

        [CeleryTask("samples.echo")]
        public static JsonArray Echo(TaskContext context) => [context.Args.DeepClone(), context.Kwargs.DeepClone()];

        [CeleryTask("samples.total")]
        public static async Task<long> TotalAsync(List<long> numbers, CancellationToken cancellationToken)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            return numbers.Sum();
        }

        [CeleryTask("samples.nothing")]
        public static async Task NothingAsync() => await Task.Yield();

        [CeleryTask("samples.throws")]
        public static void Throws(string message) => throw new InvalidOperationException(message);

        [CeleryTask("samples.snake")]
        public static int Snake(int retryCount) => retryCount;

        [CeleryTask("samples.maybe")]
        public static string Maybe(string? value) => value ?? "none";
    }

    private static readonly TaskRegistry Registry = new TaskRegistry().RegisterAssembly(typeof(TaskRegistryTests).Assembly);

    private static ValueTask<JsonNode?> Run(string name, JsonArray args, JsonObject? kwargs = null, CancellationToken token = default)
    {
        Assert.True(Registry.TryGet(name, out var task), $"{name} is registered");
        return task.InvokeAsync(new TaskContext { Id = "id-1", Name = name, Args = args, Kwargs = kwargs ?? [], CancellationToken = token });
    }

    [Fact]
    public async Task Positional_and_keyword_arguments_bind_like_python()
    {
        Assert.Equal(4, (int)(await Run("samples.add", [2, 2]))!);
        Assert.Equal(7, (int)(await Run("samples.add", [3], new JsonObject { ["y"] = 4 }))!);
        Assert.Equal(9, (int)(await Run("samples.add", [], new JsonObject { ["y"] = 4, ["x"] = 5 }))!);
    }

    [Fact]
    public async Task Defaults_fill_missing_arguments()
    {
        Assert.Equal("hello ada", (string)(await Run("samples.greet", ["ada"]))!);
        Assert.Equal("hi ada", (string)(await Run("samples.greet", ["ada"], new JsonObject { ["greeting"] = "hi" }))!);
    }

    [Fact]
    public async Task Keyword_names_are_matched_in_snake_case()
    {
        Assert.Equal(3, (int)(await Run("samples.snake", [], new JsonObject { ["retry_count"] = 3 }))!);
    }

    [Fact]
    public async Task A_context_only_task_reads_raw_args_and_kwargs()
    {
        var result = await Run("samples.echo", ["héllo", 1.5, null, true], new JsonObject { ["k"] = "v" });
        Assert.Equal("""[["héllo",1.5,null,true],{"k":"v"}]""", result!.ToJsonString(new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    [Fact]
    public async Task Async_methods_are_awaited_and_receive_the_cancellation_token()
    {
        Assert.Equal(6L, (long)(await Run("samples.total", [new JsonArray(1, 2, 3)]))!);
        Assert.Null(await Run("samples.nothing", []));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Run("samples.total", [new JsonArray(1)], token: cancelled.Token));
    }

    [Fact]
    public async Task The_task_s_own_exception_is_not_wrapped()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await Run("samples.throws", ["boom"]));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task Nullable_parameters_accept_null_and_others_reject_it()
    {
        Assert.Equal("none", (string)(await Run("samples.maybe", [null]))!);
        var error = await Assert.ThrowsAsync<TaskArgumentException>(async () => await Run("samples.add", [null, 1]));
        Assert.Equal("samples.add() argument 'x': expected an integer, got null", error.Message);
    }

    [Theory]
    [InlineData("[1, 2, 3]", "{}", "samples.add() takes 2 positional arguments but 3 were given")]
    [InlineData("[1]", "{}", "samples.add() missing required argument: 'y'")]
    [InlineData("[1, 2]", "{\"z\": 1}", "samples.add() got an unexpected keyword argument 'z'")]
    [InlineData("[1, 2]", "{\"x\": 1}", "samples.add() got multiple values for argument 'x'")]
    [InlineData("[\"a\", 2]", "{}", "samples.add() argument 'x': expected an integer, got \"a\"")]
    [InlineData("[[1, \"b\"]]", "{}", "samples.total() argument 'numbers': expected a list, got [1,\"b\"]")]
    public async Task Arguments_that_do_not_fit_get_an_error_naming_the_parameter(string args, string kwargs, string expected)
    {
        var name = expected[..expected.IndexOf('(')];
        var error = await Assert.ThrowsAsync<TaskArgumentException>(async () =>
            await Run(name, JsonNode.Parse(args)!.AsArray(), JsonNode.Parse(kwargs)!.AsObject()));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Attribute_options_are_read()
    {
        Assert.True(Registry.TryGet("samples.add", out var add));
        Assert.Equal(10, add.Options.RateLimit!.PerSecond);
        Assert.Equal(5, add.Options.MaxRetries);
    }

    [Fact]
    public void A_name_registered_twice_is_refused_with_both_places()
    {
        var registry = new TaskRegistry();
        registry.Register("dup", () => 1);
        var error = Assert.Throws<InvalidOperationException>(() => registry.Register("dup", () => 2));
        Assert.Contains("'dup' is registered twice", error.Message);
    }

    [Fact]
    public async Task Delegates_register_with_their_closure()
    {
        var registry = new TaskRegistry();
        var offset = 10;
        registry.Register("closure", (int x) => x + offset);
        Assert.True(registry.TryGet("closure", out var task));
        Assert.Equal(15, (int)(await task.InvokeAsync(new TaskContext { Id = "1", Name = "closure", Args = [5] }))!);
    }

    [Theory]
    [InlineData("10/s", 10.0)]
    [InlineData("100/m", 100.0 / 60)]
    [InlineData("1000/h", 1000.0 / 3600)]
    [InlineData("5", 5.0)]
    [InlineData("0.5/s", 0.5)]
    public void Rate_limits_parse_to_tokens_per_second(string text, double perSecond) =>
        Assert.Equal(perSecond, RateLimit.Parse(text)!.PerSecond, 9);

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("0")]
    public void Empty_or_zero_rate_limits_disable_the_limit(string? text) => Assert.Null(RateLimit.Parse(text));

    [Theory]
    [InlineData("10/x", "unknown unit 'x'")]
    [InlineData("fast", "expected a number")]
    [InlineData("-1/s", "expected a number")]
    public void Invalid_rate_limits_are_clear_errors(string text, string fragment)
    {
        var error = Assert.Throws<FormatException>(() => RateLimit.Parse(text));
        Assert.Contains(fragment, error.Message);
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public void Retry_throws_a_retry_request_until_max_retries_then_the_cause()
    {
        var options = new TaskOptions { MaxRetries = 2 };
        var first = new TaskContext { Id = "1", Name = "t", Retries = 0, Options = options };
        var retry = Assert.Throws<TaskRetryException>(() => first.Retry(TimeSpan.FromSeconds(5)));
        Assert.True(retry.Eta > DateTimeOffset.UtcNow);

        var last = new TaskContext { Id = "1", Name = "t", Retries = 2, Options = options };
        Assert.Throws<MaxRetriesExceededException>(() => last.Retry());
        var cause = new TimeoutException("upstream");
        Assert.Same(cause, Assert.Throws<TimeoutException>(() => last.Retry(exception: cause)));
    }
}

public sealed class TaskDefaultsTests
{
    [Fact]
    public void Defaults_fill_only_what_a_task_left_unset_and_reach_tasks_registered_later()
    {
        var registry = new TaskRegistry();
        var limited = registry.Register("limited", () => 1, new TaskOptions { RateLimit = RateLimit.Parse("1/s") });
        var plain = registry.Register("plain", () => 1);

        registry.UseDefaults(new TaskDefaults { DefaultRateLimit = "10/m", TrackStarted = true });
        var later = registry.Register("later", () => 1);

        Assert.Equal(1, limited.Options.RateLimit!.PerSecond);
        Assert.Equal(10.0 / 60, plain.Options.RateLimit!.PerSecond, 9);
        Assert.Equal(10.0 / 60, later.Options.RateLimit!.PerSecond, 9);
        Assert.All([limited, plain, later], t => Assert.True(t.Options.TrackStarted));
    }

    [Fact]
    public void Changing_the_defaults_recomputes_from_what_each_task_declared()
    {
        var registry = new TaskRegistry();
        var task = registry.Register("t", () => 1);
        registry.UseDefaults(new TaskDefaults { IgnoreResult = true });
        Assert.True(task.Options.IgnoreResult);

        registry.UseDefaults(new TaskDefaults());
        Assert.False(task.Options.IgnoreResult);
    }

    [Fact]
    public void A_bad_default_rate_limit_names_the_setting_and_changes_nothing()
    {
        var registry = new TaskRegistry();
        var task = registry.Register("t", () => 1);
        var error = Assert.Throws<FormatException>(() => registry.UseDefaults(new TaskDefaults { DefaultRateLimit = "5/x" }));
        Assert.StartsWith("cluster-queue.task.default-rate-limit:", error.Message);
        Assert.Null(task.Options.RateLimit);
    }
}
