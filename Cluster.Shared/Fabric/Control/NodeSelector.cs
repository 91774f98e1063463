using System.Text;
using System.Text.RegularExpressions;

namespace ClusterQueue.Fabric.Control;

/// <summary>Decides whether a node acts on a request, as kombu's <c>Node.handle_message</c> does.</summary>
/// <remarks>
/// Every node queue receives every request (fanout), so each node filters for itself. As in kombu 5.2.4, a non-empty
/// <c>destination</c> decides alone (the pattern is then ignored); otherwise a pattern with a matcher decides; otherwise
/// every node acts.
/// </remarks>
public static class NodeSelector
{
    // Patterns come from the wire, so a pathological one must not stall the node's only consumer loop.
    private static readonly TimeSpan RegexBudget = TimeSpan.FromSeconds(1);

    public static bool Selects(ControlRequest request, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Destination is { Count: > 0 } destination) return destination.Contains(nodeName, StringComparer.Ordinal);
        if (string.IsNullOrEmpty(request.Pattern) || string.IsNullOrEmpty(request.Matcher)) return true;
        return Matches(nodeName, request.Pattern, request.Matcher);
    }

    /// <summary>
    /// <c>glob</c> is Python's <c>fnmatch</c> (whole name, <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>);
    /// <c>pcre</c> is <c>re.match</c>, anchored at the start only. Another matcher or a bad pattern is a <see cref="FabricMessageException"/>.
    /// </summary>
    public static bool Matches(string nodeName, string pattern, string matcher)
    {
        var regex = matcher switch
        {
            "glob" => "\\A(?:" + TranslateGlob(pattern) + ")\\z",
            "pcre" => "\\A(?:" + pattern + ")",
            _ => throw new FabricMessageException($"control request field 'matcher' is '{matcher}'; the known matchers are glob and pcre"),
        };
        try
        {
            return Regex.IsMatch(nodeName, regex, RegexOptions.CultureInvariant, RegexBudget);
        }
        catch (ArgumentException e)
        {
            throw new FabricMessageException($"control request field 'pattern' is not a valid {matcher} pattern: {e.Message}", e);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new FabricMessageException($"control request field 'pattern' took too long to match", e);
        }
    }

    /// <summary>Python's <c>fnmatch.translate</c>, minus its anchoring.</summary>
    private static string TranslateGlob(string pattern)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2 < pattern.Length && pattern[i + 1] == '!' ? i + 3 : i + 2);
                    if (close < 0)
                    {
                        sb.Append("\\[");
                        break;
                    }

                    var set = pattern[(i + 1)..close].Replace("\\", "\\\\", StringComparison.Ordinal);
                    if (set.StartsWith('!')) set = "^" + set[1..];
                    else if (set.StartsWith('^')) set = "\\" + set;
                    sb.Append('[').Append(set).Append(']');
                    i = close;
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }

        return sb.ToString();
    }
}
