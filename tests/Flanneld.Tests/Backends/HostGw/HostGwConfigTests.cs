using Flannel.Core.Config;
using Flanneld.Backends.HostGw;

namespace Flanneld.Tests.Backends.HostGw;

public class HostGwConfigTests
{
    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("""{"Type": "host-gw", "Anything": [1, 2]}""")]
    public void Parse_AnyObject_IsAccepted(string json)
    {
        Assert.NotNull(HostGwConfig.Parse(json));
    }

    [Theory]
    [InlineData("[]", "net-conf: expected a JSON object, got an array")]
    [InlineData("1", "net-conf: expected a JSON object, got a number")]
    [InlineData("{", "net-conf: invalid JSON")]
    public void Parse_NotAnObject_ThrowsConfigException(string json, string message)
    {
        var e = Assert.Throws<ConfigException>(() => HostGwConfig.Parse(json));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }
}
