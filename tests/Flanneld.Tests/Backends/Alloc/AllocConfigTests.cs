using Flannel.Core.Config;
using Flanneld.Backends.Alloc;

namespace Flanneld.Tests.Backends.Alloc;

public class AllocConfigTests
{
    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("""{"Type": "alloc", "Anything": [1, 2]}""")]
    public void Parse_AnyObject_IsAccepted(string json)
    {
        Assert.NotNull(AllocConfig.Parse(json));
    }

    [Theory]
    [InlineData("[]", "net-conf: expected a JSON object, got an array")]
    [InlineData("1", "net-conf: expected a JSON object, got a number")]
    [InlineData("{", "net-conf: invalid JSON")]
    public void Parse_NotAnObject_ThrowsConfigException(string json, string message)
    {
        var e = Assert.Throws<ConfigException>(() => AllocConfig.Parse(json));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }
}
