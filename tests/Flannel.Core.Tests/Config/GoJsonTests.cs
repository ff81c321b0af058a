using System.Text.Json;
using Flannel.Core.Config;

namespace Flannel.Core.Tests.Config;

public class GoJsonTests
{
    private static readonly string[] Keys = ["SubnetLen", "Backend"];

    [Theory]
    [InlineData("subnetlen", "SubnetLen")]
    [InlineData("SUBNETLEN", "SubnetLen")]
    [InlineData("\u017Fubnetlen", "SubnetLen")]
    [InlineData("bac\u212Aend", "Backend")]
    [InlineData("subnet_len", null)]
    [InlineData("subnetlen ", null)]
    [InlineData("\u0130", null)]
    public void Match_Name_FoldsAsGoEncodingJson(string name, string? expected)
    {
        Assert.Equal(expected, GoJson.Match(name, Keys));
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("30", 30UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("null", null)]
    public void ReadUInt_UnsignedIntegerLiteral_IsRead(string json, ulong? expected)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        Assert.Equal(expected, GoJson.ReadUInt(document.RootElement, "ctx", "K"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("1.0")]
    [InlineData("1e1")]
    [InlineData("18446744073709551616")]
    [InlineData("\"1\"")]
    [InlineData("true")]
    public void ReadUInt_AnythingElse_ThrowsNamingKeyAndValue(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        var e = Assert.Throws<ConfigException>(() => GoJson.ReadUInt(document.RootElement, "ctx", "K"));

        Assert.Equal($"ctx: K {json}: must be an unsigned integer", e.Message);
        Assert.Equal("K", e.Key);
    }

    [Theory]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-1", -1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void ReadInt_IntegerLiteral_IsRead(string json, long expected)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        Assert.Equal(expected, GoJson.ReadInt(document.RootElement, "ctx", "K"));
    }

    [Theory]
    [InlineData("9223372036854775808")]
    [InlineData("-1.5")]
    [InlineData("2E3")]
    [InlineData("[]")]
    public void ReadInt_AnythingElse_Throws(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        Assert.Throws<ConfigException>(() => GoJson.ReadInt(document.RootElement, "ctx", "K"));
    }

    [Fact]
    public void Error_LongValue_IsShortened()
    {
        using JsonDocument document = JsonDocument.Parse($"\"{new string('x', 200)}\"");

        ConfigException e = GoJson.Error("ctx", "K", document.RootElement, "bad");

        Assert.True(e.Message.Length < 120, e.Message);
        Assert.Contains("...: bad", e.Message, StringComparison.Ordinal);
    }
}
