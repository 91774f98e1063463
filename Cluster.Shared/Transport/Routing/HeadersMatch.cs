namespace ClusterQueue.Transport.Routing;

/// <summary>RabbitMQ headers-exchange matching: <c>x-match</c> all (default) or any; binding keys starting with <c>x-</c> take no part.</summary>
public static class HeadersMatch
{
    public const string MatchKey = "x-match";

    /// <summary>Checks a binding's <c>x-match</c> value so that a typo is an error at bind time, not a silent non-match.</summary>
    public static void Validate(QueueBinding binding)
    {
        if (binding.Arguments is not null
            && binding.Arguments.TryGetValue(MatchKey, out var mode)
            && mode is not ("all" or "any"))
        {
            throw new PreconditionFailedException(
                $"binding of queue '{binding.Queue}' to headers exchange '{binding.Exchange}': {MatchKey} must be \"all\" or \"any\", got {mode ?? "null"}");
        }
    }

    /// <summary>A binding value of null asks only that the header be present, as an AMQP void field does.</summary>
    public static bool Matches(IReadOnlyDictionary<string, object?>? bindingArguments, IReadOnlyDictionary<string, object?> headers)
    {
        var matchAny = bindingArguments is not null
            && bindingArguments.TryGetValue(MatchKey, out var mode)
            && mode is "any";
        var considered = 0;
        var matched = 0;
        if (bindingArguments is not null)
        {
            foreach (var (key, expected) in bindingArguments)
            {
                if (key.StartsWith("x-", StringComparison.Ordinal))
                {
                    continue;
                }

                considered++;
                if (headers.TryGetValue(key, out var actual) && (expected is null || FieldValues.AreEqual(expected, actual)))
                {
                    matched++;
                }
            }
        }

        return matchAny ? matched > 0 : matched == considered;
    }
}
