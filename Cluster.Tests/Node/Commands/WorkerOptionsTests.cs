using System.CommandLine;
using ClusterQueue.Client;
using ClusterQueue.Node.Commands;
using ClusterQueue.Node.Demo;

namespace ClusterQueue.Tests.Node.Commands;

public class WorkerOptionsTests
{
    private static NodeSettings Load(params string[] args)
    {
        var flags = new WorkerOptions();
        var connection = new ConnectionOptions();
        var command = new RootCommand();
        flags.AddTo(command);
        connection.AddTo(command);
        var parseResult = command.Parse(args);
        Assert.Empty(parseResult.Errors);
        return connection.Load(parseResult, flags.Overrides(parseResult));
    }

    [Fact]
    public void CeleryFlags_BecomeTheNodeSettings()
    {
        var settings = Load("-Q", "video, celery", "-c", "3", "-n", "w1@%h", "-E", "--prefetch-multiplier", "2", "-O", "fair", "--acks-late", "--broker", "memory://flags");

        var worker = settings.Worker;
        Assert.Equal(["video", "celery"], worker.Queues);
        Assert.Equal(3, worker.Concurrency);
        Assert.Equal("w1@example", worker.ResolveName("example"));
        Assert.True(worker.SendTaskEvents);
        Assert.Equal(2, worker.PrefetchMultiplier);
        Assert.Equal("fair", worker.Optimization);
        Assert.True(worker.AcksLate);
        Assert.Equal("memory://flags", settings.Broker.Url);
    }

    [Fact]
    public void NoFlags_LeaveReferenceDefaults()
    {
        var worker = Load().Worker;

        Assert.Equal(["celery"], worker.Queues);
        Assert.Equal(0, worker.Concurrency);
        Assert.Equal(4, worker.PrefetchMultiplier);
        Assert.False(worker.AcksLate);
        Assert.False(worker.SendTaskEvents);
    }

    [Fact]
    public void Flags_WinOverTheConfigFile_WhichWinsOverReferenceConf()
    {
        var file = Path.Combine(Path.GetTempPath(), "cq-flags-" + Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(file, "cluster-queue.node { concurrency = 9, prefetch-multiplier = 7 }\n");
        try
        {
            var worker = Load("--config", file, "-c", "3").Worker;

            Assert.Equal(3, worker.Concurrency);
            Assert.Equal(7, worker.PrefetchMultiplier);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Banner_ListsNodeQueuesAndTasks_AndMasksTheBrokerPassword()
    {
        var settings = Load("--broker", "amqp://guest:hunter2@rabbit:5672//", "-Q", "celery,video", "-c", "5");
        var tasks = new TaskRegistry();
        tasks.Register("tasks.one", () => 1);
        DemoWorkload.RegisterLimitedTask(tasks);

        var banner = WorkerBanner.Render("w1@box", settings, tasks, "Tasks.dll");

        Assert.Contains("w1@box", banner, StringComparison.Ordinal);
        Assert.Contains(".> transport:   amqp://guest:****@rabbit:5672//", banner, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", banner, StringComparison.Ordinal);
        Assert.Contains(".> concurrency: 5 (threads)", banner, StringComparison.Ordinal);
        Assert.Contains(".> video ", banner, StringComparison.Ordinal);
        Assert.Contains("  . tasks.one", banner, StringComparison.Ordinal);
        Assert.Contains($"  . demo.limited [rate_limit={DemoWorkload.LimitedRate}]", banner, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10,3", 10, 3)]
    [InlineData("10", 10, 0)]
    [InlineData("3,10", 10, 3)]
    public void Autoscale_BecomesTheAutoscaleRange_AsCeleryReadsIt(string value, int max, int min)
    {
        var worker = Load("--autoscale", value).Worker;

        Assert.Equal(max, worker.Autoscale.Max);
        Assert.Equal(min, worker.Autoscale.Min);
        Assert.Equal(TimeSpan.FromSeconds(30), worker.Autoscale.Keepalive);
    }

    [Fact]
    public void Banner_WithAutoscale_ShowsTheRangeAsCeleryDoes()
    {
        var settings = Load("--autoscale", "10,3", "-P", "prefork");

        var banner = WorkerBanner.Render("w1@box", settings, new TaskRegistry(), "Tasks.dll");

        Assert.Contains(".> concurrency: {min=3, max=10} (prefork)", banner, StringComparison.Ordinal);
    }

    [Fact]
    public void AutoscaleKeepalive_ComesFromTheConfigFile()
    {
        var file = Path.Combine(Path.GetTempPath(), "cq-autoscale-" + Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(file, "cluster-queue.node.autoscale { max = 6, min = 2, keepalive = 5s }\n");
        try
        {
            var autoscale = Load("--config", file).Worker.Autoscale;

            Assert.Equal(new ClusterQueue.Node.Worker.AutoscaleSettings { Max = 6, Min = 2, Keepalive = TimeSpan.FromSeconds(5) }, autoscale);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TaskAssemblies_WithoutApp_RegistersTheDemoTasks_WithApp_OnlyThatAssembly()
    {
        var demo = TaskAssemblies.Load(null);
        var fromFile = TaskAssemblies.Load(typeof(Samples.Tasks).Assembly.Location);

        Assert.True(demo.Contains("tasks.add"));
        Assert.Equal(demo.Tasks.Select(t => t.Name).Order(), fromFile.Tasks.Select(t => t.Name).Order());
    }

    [Fact]
    public void TaskAssemblies_AssemblyWithoutTasks_RegistersNone()
    {
        var registry = TaskAssemblies.Load(typeof(Xunit.FactAttribute).Assembly.Location);

        Assert.Empty(registry.Tasks);
    }
}
