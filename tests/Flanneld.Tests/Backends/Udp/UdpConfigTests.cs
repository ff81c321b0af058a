using Flannel.Core.Config;
using Flanneld.Backends.Udp;

namespace Flanneld.Tests.Backends.Udp;

public class UdpConfigTests
{
    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"Type": "udp", "Other": 1}""")]
    [InlineData("""{"Port": null}""")]
    public void Parse_NoPort_DefaultsTo8285(string json)
    {
        Assert.Equal(8285, UdpConfig.Parse(json).Port);
    }

    [Theory]
    [InlineData("""{"Port": 9000}""", 9000)]
    [InlineData("""{"port": 1}""", 1)]
    [InlineData("""{"PORT": 65535}""", 65535)]
    public void Parse_Port_IsRead(string json, int port)
    {
        Assert.Equal(port, UdpConfig.Parse(json).Port);
    }

    [Theory]
    [InlineData("""{"Port": 0}""", "net-conf: Backend.Port 0: must be 1..65535")]
    [InlineData("""{"Port": 65536}""", "net-conf: Backend.Port 65536: must be 1..65535")]
    [InlineData("""{"Port": "8285"}""", "net-conf: Backend.Port \"8285\": must be an integer")]
    [InlineData("""{"Port": 8285.0}""", "net-conf: Backend.Port 8285.0: must be an integer")]
    public void Parse_BadPort_ThrowsNamingKeyAndValue(string json, string message)
    {
        var e = Assert.Throws<ConfigException>(() => UdpConfig.Parse(json));

        Assert.Equal("Backend.Port", e.Key);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
