using Flannel.Core.Config;
using Flanneld.Backends.Vxlan;

namespace Flanneld.Tests.Backends.Vxlan;

public class VxlanConfigTests
{
    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"Type": "vxlan"}""")]
    [InlineData("null")]
    public void Parse_NoKeys_GivesUpstreamDefaults(string json)
    {
        VxlanConfig config = VxlanConfig.Parse(json);

        Assert.Equal(1, config.Vni);
        Assert.Equal(0, config.Port);
        Assert.False(config.Gbp);
        Assert.False(config.Learning);
        Assert.False(config.DirectRouting);
        Assert.Equal(0, config.Mtu);
        Assert.Equal("flannel.1", config.Name);
        Assert.Equal("flannel-v6.1", config.IPv6Name);
    }

    [Fact]
    public void Parse_AllKeys_AreRead()
    {
        VxlanConfig config = VxlanConfig.Parse("""
            {"Type": "vxlan", "VNI": 4096, "Port": 4789, "GBP": true, "Learning": true, "DirectRouting": true, "MTU": 9000, "Name": "vx0"}
            """);

        Assert.Equal(4096, config.Vni);
        Assert.Equal(4789, config.Port);
        Assert.True(config.Gbp);
        Assert.True(config.Learning);
        Assert.True(config.DirectRouting);
        Assert.Equal(9000, config.Mtu);
        Assert.Equal("vx0", config.Name);
        Assert.Equal("flannel-v6.4096", config.IPv6Name);
    }

    // Upstream's struct tags are vni, port, gbp, learning, directRouting, mtu; Go matches any case.
    [Fact]
    public void Parse_KeysInAnyCase_AreRead()
    {
        VxlanConfig config = VxlanConfig.Parse("""{"vni": 7, "PORT": 1, "gbp": true, "LEARNING": true, "directRouting": true, "mtu": 1500, "name": "x"}""");

        Assert.Equal(7, config.Vni);
        Assert.Equal(1, config.Port);
        Assert.True(config.Gbp && config.Learning && config.DirectRouting);
        Assert.Equal(1500, config.Mtu);
        Assert.Equal("x", config.Name);
    }

    [Fact]
    public void Parse_VniWithoutName_NamesDeviceAfterVni()
    {
        Assert.Equal("flannel.42", VxlanConfig.Parse("""{"VNI": 42}""").Name);
        Assert.Equal("flannel.9999999", VxlanConfig.Parse("""{"VNI": 9999999}""").Name);
    }

    [Fact]
    public void Parse_NullValues_LeaveDefaults()
    {
        VxlanConfig config = VxlanConfig.Parse("""{"VNI": null, "GBP": null, "Name": null, "Unknown": [1]}""");

        Assert.Equal(1, config.Vni);
        Assert.Equal("flannel.1", config.Name);
    }

    [Theory]
    [InlineData("""{"VNI": 16777215, "Name": "big"}""", 16777215)]
    [InlineData("""{"VNI": 0}""", 0)]
    public void Parse_VniAtLimits_IsAccepted(string json, int vni)
    {
        Assert.Equal(vni, VxlanConfig.Parse(json).Vni);
    }

    [Theory]
    [InlineData("""{"VNI": 16777216}""", "Backend.VNI", "net-conf: Backend.VNI 16777216: must be 0..16777215")]
    [InlineData("""{"VNI": -1}""", "Backend.VNI", "net-conf: Backend.VNI -1: must be 0..16777215")]
    [InlineData("""{"VNI": "1"}""", "Backend.VNI", "net-conf: Backend.VNI \"1\": must be an integer")]
    [InlineData("""{"VNI": 1.5}""", "Backend.VNI", "net-conf: Backend.VNI 1.5: must be an integer")]
    [InlineData("""{"VNI": 10000000}""", "Backend.VNI", "device name flannel.10000000 would be longer than 15 characters; set Backend.Name")]
    [InlineData("""{"Port": 65536}""", "Backend.Port", "net-conf: Backend.Port 65536: must be 0..65535")]
    [InlineData("""{"Port": -5}""", "Backend.Port", "net-conf: Backend.Port -5: must be 0..65535")]
    [InlineData("""{"GBP": "true"}""", "Backend.GBP", "net-conf: Backend.GBP \"true\": must be a JSON boolean")]
    [InlineData("""{"Learning": 1}""", "Backend.Learning", "net-conf: Backend.Learning 1: must be a JSON boolean")]
    [InlineData("""{"DirectRouting": "yes"}""", "Backend.DirectRouting", "net-conf: Backend.DirectRouting \"yes\": must be a JSON boolean")]
    [InlineData("""{"MTU": 100}""", "Backend.MTU", "net-conf: Backend.MTU 100: must be 0 (the interface's MTU) or 118..65535")]
    [InlineData("""{"MTU": 70000}""", "Backend.MTU", "net-conf: Backend.MTU 70000: must be 0")]
    [InlineData("""{"MTU": "1500"}""", "Backend.MTU", "net-conf: Backend.MTU \"1500\": must be an integer")]
    [InlineData("""{"Name": ""}""", "Backend.Name", "net-conf: Backend.Name \"\": not a valid interface name")]
    [InlineData("""{"Name": "flannel.vxlan.long"}""", "Backend.Name", "net-conf: Backend.Name \"flannel.vxlan.long\": not a valid interface name")]
    [InlineData("""{"Name": "a/b"}""", "Backend.Name", "not a valid interface name")]
    [InlineData("""{"Name": "a b"}""", "Backend.Name", "not a valid interface name")]
    [InlineData("""{"Name": ".."}""", "Backend.Name", "not a valid interface name")]
    [InlineData("""{"Name": 5}""", "Backend.Name", "net-conf: Backend.Name 5: must be a JSON string")]
    public void Parse_BadValue_ThrowsNamingKeyAndValue(string json, string key, string message)
    {
        var e = Assert.Throws<ConfigException>(() => VxlanConfig.Parse(json));

        Assert.Equal(key, e.Key);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"vxlan\"")]
    [InlineData("{")]
    public void Parse_NotAnObject_ThrowsConfigException(string json)
    {
        Assert.Throws<ConfigException>(() => VxlanConfig.Parse(json));
    }

    // The Backend text NetConfigParser keeps is what the backend parses.
    [Fact]
    public void Parse_BackendFromNetConfig_ReadsItsKeys()
    {
        NetConfig net = NetConfigParser.Parse("""{"Network": "198.18.0.0/16", "Backend": {"Type": "VXLAN", "vni": 3, "DirectRouting": true}}""");

        VxlanConfig config = VxlanConfig.Parse(net.Backend);

        Assert.Equal(3, config.Vni);
        Assert.True(config.DirectRouting);
        Assert.Equal("flannel.3", config.Name);
    }
}
