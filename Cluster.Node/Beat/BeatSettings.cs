using System.Globalization;
using System.Text.Json.Nodes;
using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Node.Beat;

/// <summary>The <c>cluster-queue.beat</c> settings (Celery's <c>beat_*</c> settings), read once at start.</summary>
public sealed record BeatSettings
{
    /// <summary>SQLite file of each entry's last run (Akka.Persistence.Sql); every beat node must name the same file.</summary>
    public string StateDb { get; init; } = "cluster-queue-beat.db";

    /// <summary>Npgsql connection string of a PostgreSQL database for the last runs, used instead of <see cref="StateDb"/> when set.</summary>
    public string StatePostgres { get; init; } = "";

    /// <summary>Longest wait between two schedule checks (Celery's <c>beat_max_loop_interval</c>).</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Runs missed by at most this long (while no beat ran) are still sent; older ones are skipped.</summary>
    public TimeSpan CatchUp { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a new oldest beat node asks the previous one to hand the scheduler over.</summary>
    public TimeSpan HandOverRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The entries of <c>cluster-queue.beat.schedule</c>, in name order.</summary>
    public IReadOnlyList<BeatEntry> Entries { get; init; } = [];

    /// <summary>Binds and checks the section; a bad value is a <see cref="ConfigException"/> naming its key.</summary>
    public static BeatSettings From(IConfiguration configuration)
    {
        const string prefix = "cluster-queue.beat.";
        var settings = configuration.GetSettings<BeatSettings>("beat") with { Entries = ReadSchedule(configuration) };
        if (settings.MaxInterval <= TimeSpan.Zero)
        {
            throw new ConfigException($"{prefix}max-interval must be positive", key: prefix + "max-interval");
        }

        if (settings.CatchUp < TimeSpan.Zero)
        {
            throw new ConfigException($"{prefix}catch-up must not be negative", key: prefix + "catch-up");
        }

        if (settings.HandOverRetryInterval <= TimeSpan.Zero)
        {
            throw new ConfigException($"{prefix}hand-over-retry-interval must be positive", key: prefix + "hand-over-retry-interval");
        }

        if (settings.StateDb.Length == 0 && settings.StatePostgres.Length == 0)
        {
            throw new ConfigException($"{prefix}state-db or {prefix}state-postgres must be set: the beat keeps each entry's last run there", key: prefix + "state-db");
        }

        return settings;
    }

    /// <summary>The Akka.Persistence config of the last-run journal and its snapshots.</summary>
    public string PersistenceConfig()
    {
        var (connection, provider) = StatePostgres.Length > 0
            ? (StatePostgres, "PostgreSQL.15")
            : ($"Data Source={Path.GetFullPath(StateDb)}", "SQLite.MS");
        var quoted = System.Text.Json.JsonSerializer.Serialize(connection);
        return $$"""
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql { connection-string = {{quoted}}, provider-name = "{{provider}}" }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
            akka.persistence.snapshot-store.sql { connection-string = {{quoted}}, provider-name = "{{provider}}" }
            """;
    }

    private static List<BeatEntry> ReadSchedule(IConfiguration configuration)
    {
        var section = configuration.GetSection("cluster-queue:beat:schedule");
        var entries = new List<BeatEntry>();
        foreach (var child in section.GetChildren().OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            entries.Add(ReadEntry(child));
        }

        return entries;
    }

    private static BeatEntry ReadEntry(IConfigurationSection entry)
    {
        var key = "cluster-queue.beat.schedule." + entry.Key;
        ConfigException Bad(string field, string problem) => new($"{key}.{field}: {problem}", key: $"{key}.{field}");

        var known = new HashSet<string>(["task", "every", "crontab", "args", "kwargs", "queue", "expires"], StringComparer.OrdinalIgnoreCase);
        if (entry.Value is not null)
        {
            throw new ConfigException($"{key} must be an object such as {{ task = \"tasks.add\", every = 10s }}", key: key);
        }

        foreach (var field in entry.GetChildren())
        {
            if (!known.Contains(field.Key))
            {
                throw Bad(field.Key, $"unknown field; an entry takes {string.Join(", ", known)}");
            }
        }

        var task = entry["task"];
        if (string.IsNullOrWhiteSpace(task))
        {
            throw Bad("task", "every entry names the task to send, e.g. task = \"tasks.add\"");
        }

        var every = entry["every"];
        var crontab = entry["crontab"];
        BeatSchedule schedule;
        if (every is not null && crontab is not null)
        {
            throw new ConfigException($"{key}: set every or crontab, not both", key: key);
        }

        if (every is not null)
        {
            if (!HoconDuration.TryParse(every, out var interval) || interval <= TimeSpan.Zero)
            {
                throw Bad("every", $"a positive duration such as 10s or 1 minute, got '{every}'");
            }

            schedule = new IntervalSchedule(interval);
        }
        else if (crontab is not null)
        {
            try
            {
                schedule = new CrontabSchedule(Crontab.Parse(crontab));
            }
            catch (FormatException e)
            {
                throw Bad("crontab", e.Message);
            }
        }
        else
        {
            throw new ConfigException($"{key}: set every (a duration) or crontab (\"minute hour day_of_month month_of_year day_of_week\")", key: key);
        }

        TimeSpan? expires = null;
        if (entry["expires"] is { } expiresText)
        {
            if (!HoconDuration.TryParse(expiresText, out var value) || value <= TimeSpan.Zero)
            {
                throw Bad("expires", $"a positive duration such as 30s, got '{expiresText}'");
            }

            expires = value;
        }

        var argsSection = entry.GetSection("args");
        if (argsSection.Value is { Length: > 0 })
        {
            throw Bad("args", "a list such as [2, 2]");
        }

        var kwargsSection = entry.GetSection("kwargs");
        if (kwargsSection.Value is { Length: > 0 })
        {
            throw Bad("kwargs", "an object such as { x = 1 }");
        }

        var args = new JsonArray([.. argsSection.GetChildren().OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)).Select(ToJson)]);
        var kwargs = new JsonObject();
        foreach (var field in kwargsSection.GetChildren())
        {
            kwargs[field.Key] = ToJson(field);
        }

        return new BeatEntry(entry.Key, task, schedule)
        {
            Args = args,
            Kwargs = kwargs,
            Queue = string.IsNullOrEmpty(entry["queue"]) ? null : entry["queue"],
            Expires = expires,
        };
    }

    /// <summary>
    /// A configured value as JSON. The configuration keeps every scalar as text, so a value that reads as a number,
    /// true, false or null is sent as one; lists and objects nest. A string of digits cannot be told from a number here.
    /// </summary>
    private static JsonNode? ToJson(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (section.Value is null && children.Count > 0)
        {
            if (children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                return new JsonArray([.. children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)).Select(ToJson)]);
            }

            var obj = new JsonObject();
            foreach (var child in children)
            {
                obj[child.Key] = ToJson(child);
            }

            return obj;
        }

        var text = section.Value;
        if (text is null or "null")
        {
            return null;
        }

        if (text is "true" or "false")
        {
            return JsonValue.Create(text == "true");
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(text);
    }
}
