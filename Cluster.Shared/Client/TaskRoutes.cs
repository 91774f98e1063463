using System.Text.RegularExpressions;

namespace ClusterQueue.Client;

/// <summary>Celery's <c>task_routes</c>: the first rule whose pattern matches a task name picks its queue.</summary>
/// <remarks>
/// A pattern is an exact name (<c>tasks.add</c>), a glob (<c>tasks.*</c>, <c>*.slow</c>) or, written as
/// <c>re:&lt;expression&gt;</c>, a regular expression matched against the whole name, as Celery's <c>re.compile</c> routes.
/// </remarks>
public sealed class TaskRoutes
{
    private readonly List<(string Pattern, Func<string, bool> Matches, string Queue)> _rules = [];

    /// <summary>Adds a rule; rules are tried in the order they were added.</summary>
    /// <exception cref="ArgumentException">The pattern is empty or an invalid regular expression.</exception>
    public TaskRoutes Add(string pattern, string queue)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            throw new ArgumentException("a task route needs a non-empty pattern", nameof(pattern));
        }

        if (string.IsNullOrWhiteSpace(queue))
        {
            throw new ArgumentException($"the task route '{pattern}' needs a queue", nameof(queue));
        }

        _rules.Add((pattern, Compile(pattern), queue));
        return this;
    }

    /// <summary>The queue for <paramref name="taskName"/>, or null when no rule matches.</summary>
    public string? QueueFor(string taskName)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(taskName))
            {
                return rule.Queue;
            }
        }

        return null;
    }

    private static Func<string, bool> Compile(string pattern)
    {
        if (pattern.StartsWith("re:", StringComparison.Ordinal))
        {
            Regex regex;
            try
            {
                regex = new Regex($"^(?:{pattern[3..]})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"the task route '{pattern}' is not a valid regular expression: {e.Message}", nameof(pattern), e);
            }

            return regex.IsMatch;
        }

        if (pattern.AsSpan().IndexOfAny('*', '?') < 0)
        {
            return name => string.Equals(name, pattern, StringComparison.Ordinal);
        }

        var glob = new Regex(
            "^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant);
        return glob.IsMatch;
    }
}
