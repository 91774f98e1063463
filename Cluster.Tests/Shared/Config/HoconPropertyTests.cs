using System.Text.Json;
using ClusterQueue.Config;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterQueue.Tests.Config;

public class HoconPropertyTests
{
    [Fact]
    public void AnyString_RoundTripsThroughAQuotedValue()
    {
        Prop.ForAll<string>(text =>
            {
                var value = text ?? "";
                var root = HoconReader.Parse($"a = {JsonSerializer.Serialize(value)}", "prop.conf", _ => null);
                return ((HoconScalar)root["a"]!).Value == value;
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AnyInput_EitherParsesOrFailsWithAConfigException()
    {
        var alphabet = Gen.Elements('a', 'b', '.', ' ', '\n', '=', ':', '{', '}', '[', ']', ',', '"', '$', '?', '+', '#', '/', '1', '\\');
        var inputs = Gen.ArrayOf(alphabet).Select(chars => new string(chars));
        Prop.ForAll(inputs.ToArbitrary(), text =>
            {
                try
                {
                    HoconReader.Parse(text, "prop.conf", _ => null);
                }
                catch (ConfigException)
                {
                }

                return true;
            })
            .Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000));
    }
}
