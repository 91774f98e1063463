using System.Globalization;
using Npgsql;

namespace ClusterQueue.Results;

/// <summary>Turns a <c>postgresql://</c> result backend URL into an Npgsql connection string.</summary>
/// <remarks>
/// The URL is libpq's (which SQLAlchemy, and so Celery's <c>db+postgresql://</c>, passes through):
/// <c>postgresql://user:password@host:port/database?sslmode=require</c>, user and password percent-encoded.
/// Query parameters take libpq's names; any other name is handed to Npgsql as a connection string keyword
/// (<c>?MaxPoolSize=50</c>), so every Npgsql setting can be reached without a second syntax.
/// </remarks>
internal static class PostgresUrl
{
    public const int DefaultPort = 5432;

    /// <summary>The URL schemes that mean PostgreSQL: libpq's two, and Celery's database backend prefix before either.</summary>
    public static bool IsPostgresScheme(string scheme) => BaseScheme(scheme) is "postgresql" or "postgres";

    // libpq's parameter names and the Npgsql keywords they become.
    private static readonly Dictionary<string, string> LibpqNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["host"] = "Host",
        ["port"] = "Port",
        ["dbname"] = "Database",
        ["user"] = "Username",
        ["password"] = "Password",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    /// <exception cref="UnsupportedResultBackendException">The URL lacks a host or database, or has a bad port, escape or parameter; the message says which.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0 || !IsPostgresScheme(url[..separator].ToLowerInvariant()))
        {
            throw new UnsupportedResultBackendException(url, "not a postgresql:// URL");
        }

        var rest = url[(separator + 3)..];
        var query = "";
        var questionMark = rest.IndexOf('?', StringComparison.Ordinal);
        if (questionMark >= 0)
        {
            query = rest[(questionMark + 1)..];
            rest = rest[..questionMark];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? rest[(slash + 1)..] : "";

        var builder = new NpgsqlConnectionStringBuilder();
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Decode(url, colon >= 0 ? userInfo[..colon] : userInfo, "user name");
            if (user.Length > 0)
            {
                builder.Username = user;
            }

            if (colon >= 0)
            {
                builder.Password = Decode(url, userInfo[(colon + 1)..], "password");
            }
        }

        if (authority.Length > 0)
        {
            SetHosts(url, builder, authority);
        }

        if (path.Contains('/', StringComparison.Ordinal))
        {
            throw new UnsupportedResultBackendException(url, $"the database name '{path}' contains a '/'; the URL's path is only the database: 'postgresql://user:pass@host/db'");
        }

        var database = Decode(url, path, "database name");
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(url, equals >= 0 ? pair[..equals] : pair, "parameter name");
            var value = equals >= 0 ? Decode(url, pair[(equals + 1)..].Replace('+', ' '), $"value of '{name}'") : "";
            SetParameter(url, builder, name, value);
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new UnsupportedResultBackendException(url, "a PostgreSQL URL needs a host: 'postgresql://user:pass@host/db' (or '?host=/socket/dir')");
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new UnsupportedResultBackendException(url, "a PostgreSQL URL needs a database name: 'postgresql://user:pass@host/db'");
        }

        return builder;
    }

    // db+postgresql+psycopg2 -> postgresql: SQLAlchemy names the driver after a '+', which means nothing here.
    private static string BaseScheme(string scheme)
    {
        if (scheme.StartsWith("db+", StringComparison.Ordinal))
        {
            scheme = scheme[3..];
        }

        var plus = scheme.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? scheme[..plus] : scheme;
    }

    // host, host:port, [::1]:port, or libpq's list h1:p1,h2:p2, which Npgsql takes as it is for failover.
    private static void SetHosts(string url, NpgsqlConnectionStringBuilder builder, string authority)
    {
        var hosts = new List<(string Host, int? Port)>();
        foreach (var part in authority.Split(','))
        {
            string host;
            string? port = null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new UnsupportedResultBackendException(url, $"the IPv6 host '{part}' lacks its closing ']'");
                }

                host = part[1..close];
                var after = part[(close + 1)..];
                if (after.Length > 0)
                {
                    port = after.StartsWith(':') ? after[1..] : throw new UnsupportedResultBackendException(url, $"unexpected '{after}' after the IPv6 host '{part[..(close + 1)]}'");
                }
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon >= 0 ? part[..colon] : part;
                port = colon >= 0 ? part[(colon + 1)..] : null;
            }

            host = Decode(url, host, "host");
            if (host.Length == 0)
            {
                throw new UnsupportedResultBackendException(url, $"the host list '{authority}' has an empty host");
            }

            hosts.Add((host, port is null ? null : ParsePort(url, port)));
        }

        if (hosts is [var single])
        {
            builder.Host = single.Host;
            builder.Port = single.Port ?? DefaultPort;
        }
        else
        {
            builder.Host = string.Join(',', hosts.Select(h => h.Host.Contains(':', StringComparison.Ordinal) ? $"[{h.Host}]:{h.Port ?? DefaultPort}" : $"{h.Host}:{h.Port ?? DefaultPort}"));
        }
    }

    private static int ParsePort(string url, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new UnsupportedResultBackendException(url, $"the port '{text}' is not a number from 1 to 65535");

    private static void SetParameter(string url, NpgsqlConnectionStringBuilder builder, string name, string value)
    {
        if (name.Equals("port", StringComparison.OrdinalIgnoreCase))
        {
            builder.Port = ParsePort(url, value);
            return;
        }

        if (name.Equals("sslmode", StringComparison.OrdinalIgnoreCase))
        {
            // libpq spells them verify-ca and verify-full; Npgsql's enum VerifyCA and VerifyFull.
            builder.SslMode = Enum.TryParse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode) && !int.TryParse(value, out _)
                ? mode
                : throw new UnsupportedResultBackendException(url, $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full");
            return;
        }

        var keyword = LibpqNames.GetValueOrDefault(name, name);
        try
        {
            builder[keyword] = value;
        }
        catch (ArgumentException e) when (!LibpqNames.ContainsKey(name) && e.InnerException is KeyNotFoundException)
        {
            throw new UnsupportedResultBackendException(url, $"unknown parameter '{name}' (neither a libpq parameter such as sslmode nor an Npgsql connection string keyword)");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidCastException)
        {
            throw new UnsupportedResultBackendException(url, $"parameter '{name}' has a bad value '{value}': {e.Message}");
        }
    }

    private static string Decode(string url, string text, string what)
    {
        // Uri.UnescapeDataString leaves a bad escape as it is, so a stray '%' is caught here rather than sent as part of a name.
        for (var i = text.IndexOf('%', StringComparison.Ordinal); i >= 0; i = text.IndexOf('%', i + 1))
        {
            if (i + 2 >= text.Length || !Uri.IsHexDigit(text[i + 1]) || !Uri.IsHexDigit(text[i + 2]))
            {
                throw new UnsupportedResultBackendException(url, $"the {what} has a '%' that is not followed by two hex digits (write a literal '%' as %25)");
            }
        }

        return Uri.UnescapeDataString(text);
    }
}
