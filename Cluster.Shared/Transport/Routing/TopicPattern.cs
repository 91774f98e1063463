namespace ClusterQueue.Transport.Routing;

/// <summary>AMQP topic matching: words split on '.', '*' matches exactly one word, '#' matches zero or more.</summary>
public static class TopicPattern
{
    public static bool Matches(string pattern, string routingKey) =>
        Matches(pattern.Split('.'), routingKey.Split('.'));

    /// <summary>Dynamic programming over word positions, so patterns full of '#' stay linear in key length rather than exponential.</summary>
    public static bool Matches(string[] patternWords, string[] keyWords)
    {
        var next = new bool[keyWords.Length + 1];
        var current = new bool[keyWords.Length + 1];
        next[keyWords.Length] = true;
        for (var i = patternWords.Length - 1; i >= 0; i--)
        {
            var word = patternWords[i];
            for (var j = keyWords.Length; j >= 0; j--)
            {
                current[j] = word switch
                {
                    "#" => next[j] || (j < keyWords.Length && current[j + 1]),
                    "*" => j < keyWords.Length && next[j + 1],
                    _ => j < keyWords.Length && next[j + 1] && string.Equals(word, keyWords[j], StringComparison.Ordinal),
                };
            }

            (next, current) = (current, next);
        }

        return next[0];
    }
}
