using ClusterQueue.Config;
using Microsoft.Extensions.Configuration;
using static ClusterQueue.Tests.Config.HoconTestSupport;

namespace ClusterQueue.Tests.Config;

public class HoconConfigurationProviderTests
{
    [Fact]
    public void Paths_BecomeColonKeys_AndArrayItemsBecomeIndexes()
    {
        var configuration = new ConfigurationBuilder()
            .AddHoconString("a.b.c = 1\na.list = [x, y]\na.items = [{ n = 1 }, { n = 2 }]\na.none = null", "inline")
            .Build();
        Assert.Equal("1", configuration["a:b:c"]);
        Assert.Equal("x", configuration["a:list:0"]);
        Assert.Equal("y", configuration["a:list:1"]);
        Assert.Equal("2", configuration["a:items:1:n"]);
        Assert.Null(configuration["a:none"]);
        Assert.Equal(["b", "items", "list", "none"], configuration.GetSection("a").GetChildren().Select(c => c.Key).Order());
    }

    [Fact]
    public void AddHoconFile_LaterSourcesOverrideEarlierOnes()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("app.conf", "a { b = from-file, c = kept }");
        var configuration = new ConfigurationBuilder()
            .AddHoconFile(file)
            .AddHoconString("a.b = from-string", "inline")
            .Build();
        Assert.Equal("from-string", configuration["a:b"]);
        Assert.Equal("kept", configuration["a:c"]);
    }

    [Fact]
    public void AddHoconFile_Optional_ToleratesAMissingFile_ButRequiredDoesNot()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "missing.conf");
        var configuration = new ConfigurationBuilder().AddHoconFile(missing, optional: true).Build();
        Assert.Empty(configuration.AsEnumerable());
        var error = Assert.Throws<ConfigException>(() => new ConfigurationBuilder().AddHoconFile(missing).Build());
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHoconString_ErrorsNameTheSourceName()
    {
        var error = Assert.Throws<ConfigException>(() => new ConfigurationBuilder().AddHoconString("a = \"x", "flags.conf").Build());
        Assert.Equal("flags.conf", error.File);
    }

    [Fact]
    public void Provider_KnowsWhereEachValueWasSet()
    {
        var root = new ConfigurationBuilder().AddHoconString("a {\n  b = 1\n}", "inline").Build();
        var provider = Assert.IsType<HoconConfigurationProvider>(Assert.Single(root.Providers));
        Assert.Equal("inline:2:7", provider.DescribeOrigin("a:b"));
    }
}
