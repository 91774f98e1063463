using ClusterQueue.Config;
using ClusterQueue.Node.Beat;

namespace ClusterQueue.Tests.Node.Beat;

/// <summary><c>cluster-queue.beat.schedule</c>: entries, their next runs, and the errors that name the bad key.</summary>
public class BeatScheduleTests
{
    internal static BeatSettings Load(string hocon)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("cq-beat-conf-").FullName, "beat.conf");
        File.WriteAllText(file, hocon);
        var loaded = ClusterQueueConfiguration.Load(file, new Dictionary<string, string?>(), new Dictionary<string, string>());
        Assert.Empty(loaded.Warnings);
        return BeatSettings.From(loaded.Configuration);
    }

    [Fact]
    public void Defaults_HaveNoEntries()
    {
        var settings = BeatSettings.From(ClusterQueueConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string>()).Configuration);
        Assert.Empty(settings.Entries);
        Assert.Equal(TimeSpan.FromSeconds(300), settings.MaxInterval);
        Assert.Equal("cluster-queue-beat.db", settings.StateDb);
    }

    [Fact]
    public void Entries_ReadTaskScheduleArgsKwargsQueueAndExpires()
    {
        var settings = Load("""
            cluster-queue.beat.schedule {
              add-every-10s { task = "tasks.add", every = 10s, args = [2, 2], kwargs { label = "x", deep { on = true } }, queue = "celery", expires = 30s }
              nightly { task = "tasks.cleanup", crontab = "0 3 * * *" }
            }
            """);
        Assert.Equal(["add-every-10s", "nightly"], settings.Entries.Select(e => e.Name));
        var add = settings.Entries[0];
        Assert.Equal("tasks.add", add.Task);
        Assert.Equal(new IntervalSchedule(TimeSpan.FromSeconds(10)), add.Schedule);
        Assert.Equal("[2,2]", add.Args.ToJsonString());
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse("""{"label":"x","deep":{"on":true}}"""), add.Kwargs));
        Assert.Equal("celery", add.Queue);
        Assert.Equal(TimeSpan.FromSeconds(30), add.Expires);
        var nightly = settings.Entries[1];
        Assert.Equal("crontab 0 3 * * *", nightly.Schedule.Describe());
        Assert.Null(nightly.Queue);
        Assert.Null(nightly.Expires);
        Assert.Empty(nightly.Args);
    }

    [Theory]
    [InlineData("e { every = 1s }", "cluster-queue.beat.schedule.e.task")]
    [InlineData("e { task = t, every = 1s, crontab = \"* * * * *\" }", "cluster-queue.beat.schedule.e")]
    [InlineData("e { task = t }", "cluster-queue.beat.schedule.e")]
    [InlineData("e { task = t, crontab = \"61 * * * *\" }", "cluster-queue.beat.schedule.e.crontab")]
    [InlineData("e { task = t, every = soon }", "cluster-queue.beat.schedule.e.every")]
    [InlineData("e { task = t, every = 1s, expires = 0s }", "cluster-queue.beat.schedule.e.expires")]
    [InlineData("e { task = t, every = 1s, args = 3 }", "cluster-queue.beat.schedule.e.args")]
    [InlineData("e { task = t, every = 1s, countdown = 3 }", "cluster-queue.beat.schedule.e.countdown")]
    public void BadEntry_IsAConfigErrorNamingTheKey(string entry, string key)
    {
        var error = Assert.Throws<ConfigException>(() => Load($"cluster-queue.beat.schedule {{ {entry} }}"));
        Assert.Equal(key, error.Key);
        Assert.StartsWith(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interval_CountsFromThePreviousSlot()
    {
        var schedule = new IntervalSchedule(TimeSpan.FromSeconds(10));
        var at = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(at.AddSeconds(10), schedule.NextAfter(at));
        Assert.Equal("every 10s", schedule.Describe());
    }

    [Fact]
    public void State_NextRunOfANewEntryCountsFromNow_AndOfAKnownOneFromItsLastSlot()
    {
        var entry = new BeatEntry("e", "tasks.add", new IntervalSchedule(TimeSpan.FromSeconds(5)));
        var now = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var state = new BeatState();
        Assert.Equal(now.AddSeconds(5), state.NextRun(entry, now));
        state.Apply(new BeatState.Passed("e", now.AddSeconds(-3), Ran: true));
        Assert.Equal(now.AddSeconds(2), state.NextRun(entry, now));

        var copy = new BeatState();
        copy.Restore(state.Snapshot());
        Assert.Equal(now.AddSeconds(-3), copy.Slots["e"].LastRun);
        Assert.Equal(new BeatState.Passed("e", now, Ran: false), BeatState.Decode(BeatState.Encode(new BeatState.Passed("e", now, Ran: false))));
    }

    [Fact]
    public void TaskId_IsAUuidOfTheEntryAndTheSlot()
    {
        var entry = new BeatEntry("e", "tasks.add", new IntervalSchedule(TimeSpan.FromSeconds(1)));
        var at = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(entry.TaskId(at), entry.TaskId(at));
        Assert.NotEqual(entry.TaskId(at), entry.TaskId(at.AddSeconds(1)));
        Assert.True(Guid.TryParse(entry.TaskId(at), out var id));
        Assert.Equal(5, id.Version);
    }
}
