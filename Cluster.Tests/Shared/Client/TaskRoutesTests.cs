using ClusterQueue.Client;

namespace ClusterQueue.Tests.Client;

public sealed class TaskRoutesTests
{
    [Fact]
    public void The_first_matching_rule_wins_across_exact_glob_and_regex()
    {
        var routes = new TaskRoutes()
            .Add("tasks.add", "math")
            .Add("tasks.*", "general")
            .Add("re:reports\\.(daily|weekly)", "reports");

        Assert.Equal("math", routes.QueueFor("tasks.add"));
        Assert.Equal("general", routes.QueueFor("tasks.mul"));
        Assert.Equal("reports", routes.QueueFor("reports.daily"));
        Assert.Null(routes.QueueFor("reports.daily.extra"));
        Assert.Null(routes.QueueFor("other.add"));
    }

    [Fact]
    public void Glob_metacharacters_other_than_star_and_question_mark_are_literal()
    {
        var routes = new TaskRoutes().Add("a.b?", "q");
        Assert.Equal("q", routes.QueueFor("a.bc"));
        Assert.Null(routes.QueueFor("aXbc"));
    }

    [Fact]
    public void A_bad_regex_is_an_error_naming_the_route()
    {
        var error = Assert.Throws<ArgumentException>(() => new TaskRoutes().Add("re:(unclosed", "q"));
        Assert.Contains("'re:(unclosed'", error.Message);
    }
}

public sealed class RetryPolicyTests
{
    [Fact]
    public void Delays_grow_by_step_and_stop_at_the_max()
    {
        var policy = new RetryPolicy { IntervalStart = TimeSpan.FromSeconds(1), IntervalStep = TimeSpan.FromSeconds(2), IntervalMax = TimeSpan.FromSeconds(4) };
        Assert.Equal([1, 3, 4, 4], Enumerable.Range(1, 4).Select(i => policy.DelayBefore(i).TotalSeconds));
    }

    [Fact]
    public async Task Transient_failures_are_retried_until_success()
    {
        var attempts = 0;
        var policy = new RetryPolicy { MaxRetries = 3, IntervalStep = TimeSpan.Zero, IntervalMax = TimeSpan.Zero };
        var result = await policy.ExecuteAsync(
            _ => ++attempts < 3 ? throw new IOException("down") : ValueTask.FromResult(attempts),
            e => e is IOException,
            "publish");
        Assert.Equal(3, result);
    }

    [Fact]
    public async Task When_retries_are_used_up_the_error_says_how_many_attempts_were_made()
    {
        var attempts = 0;
        var policy = new RetryPolicy { MaxRetries = 2, IntervalStep = TimeSpan.Zero, IntervalMax = TimeSpan.Zero };
        var error = await Assert.ThrowsAsync<PublishFailedException>(async () => await policy.ExecuteAsync<int>(
            _ => { attempts++; throw new IOException("broker down"); },
            e => e is IOException,
            "publish tasks.add"));
        Assert.Equal(3, attempts);
        Assert.Equal("publish tasks.add failed after 3 attempts: broker down", error.Message);
    }

    [Fact]
    public async Task Errors_that_are_not_transient_propagate_at_once()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<ArgumentException>(async () => await RetryPolicy.Default.ExecuteAsync<int>(
            _ => { attempts++; throw new ArgumentException("bad"); },
            e => e is IOException,
            "publish"));
        Assert.Equal(1, attempts);
    }
}
